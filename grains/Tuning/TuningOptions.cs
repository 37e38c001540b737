using Microsoft.Extensions.Options;

namespace Kyros.Perf.Tuning;

/// <summary>
/// <c>Kyros:Tuning</c>: the configuration a fresh cluster's tuner starts with (later changes through the API are kept in
/// its grain state and win), and how often its timer looks whether a cycle is due.
/// </summary>
public sealed class TuningOptions
{
    public const string Section = "Kyros:Tuning";

    public bool Enabled { get; set; } = true;
    public double TuningIntervalMinutes { get; set; } = 30;
    public double ConfidenceThreshold { get; set; } = 0.7;
    public double ImpactThreshold { get; set; } = 0.1;
    public int MaxConcurrentTunings { get; set; } = 2;
    public double LearningRate { get; set; } = 0.1;
    public double SafetyMargin { get; set; } = 0.2;
    public bool AutoApply { get; set; } = true;
    public double EvaluationMinutes { get; set; } = 30;

    /// <summary>How often the tuner's timer checks the clock; a cycle runs when the interval has passed since the last.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Models a cycle reads at once.</summary>
    public int GatherBatch { get; set; } = 100;

    /// <summary>
    /// After each batch, a cycle waits this many times as long as the batch took: at 4 its reads take at most a fifth
    /// of the time they span, leaving the statistics grains to the records that keep arriving. 0: no pause.
    /// </summary>
    public double GatherPacing { get; set; } = 4;

    /// <summary>Recommendations kept in grain state (older decided ones remain in the SQLite history).</summary>
    public int Capacity { get; set; } = 500;

    public TuningConfiguration ToConfiguration() => new()
    {
        Enabled = Enabled,
        TuningIntervalMinutes = TuningIntervalMinutes,
        ConfidenceThreshold = ConfidenceThreshold,
        ImpactThreshold = ImpactThreshold,
        MaxConcurrentTunings = MaxConcurrentTunings,
        LearningRate = LearningRate,
        SafetyMargin = SafetyMargin,
        AutoApply = AutoApply,
        EvaluationMinutes = EvaluationMinutes,
    };
}

public sealed class TuningOptionsValidator : IValidateOptions<TuningOptions>
{
    public ValidateOptionsResult Validate(string? name, TuningOptions options)
    {
        var errors = new List<string>();
        try
        {
            TuningValidator.Validate(options.ToConfiguration());
        }
        catch (ArgumentException e)
        {
            errors.Add($"{TuningOptions.Section}: {e.Message}");
        }
        if (options.TickInterval < TimeSpan.FromMilliseconds(10) || options.TickInterval > TimeSpan.FromMinutes(10))
            errors.Add($"{TuningOptions.Section}:TickInterval must be within 00:00:00.010..00:10:00.");
        if (options.GatherBatch is < 1 or > 100_000) errors.Add($"{TuningOptions.Section}:GatherBatch must be within 1..100000.");
        if (!double.IsFinite(options.GatherPacing) || options.GatherPacing is < 0 or > 100) errors.Add($"{TuningOptions.Section}:GatherPacing must be within 0..100.");
        if (options.Capacity is < 10 or > 100_000) errors.Add($"{TuningOptions.Section}:Capacity must be within 10..100000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
