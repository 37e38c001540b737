using Kyros.Perf.Common;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>Model and key alerts (configuration section <c>Kyros:Alerts</c>); the rules' levels are the cluster's, over HTTP.</summary>
public sealed class AlertOptions
{
    public const string Section = "Kyros:Alerts";

    /// <summary>How often each active model grain evaluates its rules.</summary>
    public TimeSpan ModelEvaluationInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The window of <c>error_rate</c>, <c>latency_p95</c>, <c>ttft_p95</c> and the short window of <c>error_budget_burn</c> (whole minutes).</summary>
    public TimeSpan ErrorRateWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Evaluations in a row a model's value must breach (or clear by the margin) to enter (or leave) a level.</summary>
    public int ConsecutiveEvaluations { get; set; } = 2;

    /// <summary>A model rule's level is left below its threshold less this share of it.</summary>
    public double HysteresisFraction { get; set; } = 0.1;

    /// <summary>How soon a silo asks the rules grain again after it did not answer (it otherwise waits there for changes).</summary>
    public TimeSpan RulesSyncInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Alert streams (<c>/v1/resources/alerts/stream</c>) one key (or, without keys, one address) may hold open on a silo.</summary>
    public int MaxStreamsPerCaller { get; set; } = 8;

    /// <summary>Alert streams a silo holds open in all.</summary>
    public int MaxStreams { get; set; } = 1_000;
}

public sealed class AlertOptionsValidator : IValidateOptions<AlertOptions>
{
    public ValidateOptionsResult Validate(string? name, AlertOptions options)
    {
        var errors = new List<string>();
        if (options.ModelEvaluationInterval < TimeSpan.FromMilliseconds(100) || options.ModelEvaluationInterval > TimeSpan.FromMinutes(10))
            errors.Add($"{AlertOptions.Section}:ModelEvaluationInterval must be within 00:00:00.100..00:10:00.");
        if (!TimeWindow.IsValid(options.ErrorRateWindow) || options.ErrorRateWindow > TimeSpan.FromHours(1))
            errors.Add($"{AlertOptions.Section}:ErrorRateWindow must be whole minutes within 00:01:00..01:00:00.");
        if (options.ConsecutiveEvaluations is < 1 or > 100)
            errors.Add($"{AlertOptions.Section}:ConsecutiveEvaluations must be within 1..100.");
        if (!(options.HysteresisFraction >= 0 && options.HysteresisFraction <= 0.5))
            errors.Add($"{AlertOptions.Section}:HysteresisFraction must be within 0..0.5.");
        if (options.RulesSyncInterval < TimeSpan.FromMilliseconds(10) || options.RulesSyncInterval > TimeSpan.FromSeconds(10))
            errors.Add($"{AlertOptions.Section}:RulesSyncInterval must be within 00:00:00.010..00:00:10.");
        if (options.MaxStreamsPerCaller is < 1 or > 10_000 || options.MaxStreams < options.MaxStreamsPerCaller || options.MaxStreams > 100_000)
            errors.Add($"{AlertOptions.Section}:MaxStreamsPerCaller must be within 1..10000 and MaxStreams within MaxStreamsPerCaller..100000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
