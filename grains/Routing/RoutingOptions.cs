using Microsoft.Extensions.Options;

namespace Kyros.Perf.Routing;

/// <summary>How the router trusts, cools down and paces models (configuration section <c>Kyros:Routing</c>).</summary>
public sealed class RoutingOptions
{
    public const string Section = "Kyros:Routing";

    /// <summary>How many samples a catalog prior counts as: a model with this many live samples is judged half on each.</summary>
    public double PriorStrength { get; set; } = 20;

    /// <summary>How often each silo refreshes its snapshot of model statistics, and each model publishes its own.</summary>
    public TimeSpan SnapshotInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Consecutive failures that cool a model down.</summary>
    public int CooldownAfterFailures { get; set; } = 5;

    /// <summary>An error rate (over the last 5 minutes, with at least 20 samples, the latest a failure) that cools a model down.</summary>
    public double CooldownErrorRate { get; set; } = 0.5;

    public TimeSpan CooldownPeriod { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The share of decisions a model that left its cooldown may take until it succeeds again.</summary>
    public double ProbeShare { get; set; } = 0.1;
}

public sealed class RoutingOptionsValidator : IValidateOptions<RoutingOptions>
{
    public ValidateOptionsResult Validate(string? name, RoutingOptions o)
    {
        var errors = new List<string>();
        if (!(o.PriorStrength is > 0 and <= 1_000_000)) errors.Add($"{RoutingOptions.Section}:PriorStrength must be within (0, 1000000].");
        if (o.SnapshotInterval < TimeSpan.FromMilliseconds(50) || o.SnapshotInterval > TimeSpan.FromSeconds(1))
            errors.Add($"{RoutingOptions.Section}:SnapshotInterval must be within 00:00:00.05..00:00:01 (decisions see statistics at most two intervals old).");
        if (o.CooldownAfterFailures < 1) errors.Add($"{RoutingOptions.Section}:CooldownAfterFailures must be at least 1.");
        if (!(o.CooldownErrorRate is > 0 and <= 1)) errors.Add($"{RoutingOptions.Section}:CooldownErrorRate must be within (0, 1].");
        if (o.CooldownPeriod < TimeSpan.FromSeconds(1)) errors.Add($"{RoutingOptions.Section}:CooldownPeriod must be at least 1 second.");
        if (!(o.ProbeShare is > 0 and <= 1)) errors.Add($"{RoutingOptions.Section}:ProbeShare must be within (0, 1].");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
