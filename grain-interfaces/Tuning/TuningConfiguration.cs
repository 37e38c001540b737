namespace Kyros.Perf.Tuning;

/// <summary>
/// How the tuner works: how often it runs, which recommendations it applies on its own, how far one step may go,
/// and how long and how strictly a change is watched. Rates and thresholds lie in 0-1.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningConfiguration")]
public sealed record TuningConfiguration
{
    [Id(0)] public bool Enabled { get; init; } = true;
    [Id(1)] public double TuningIntervalMinutes { get; init; } = 30;
    /// <summary>A recommendation is applied on its own only at or above this confidence.</summary>
    [Id(2)] public double ConfidenceThreshold { get; init; } = 0.7;
    /// <summary>... and at or above this expected impact (the share of the problem it removes).</summary>
    [Id(3)] public double ImpactThreshold { get; init; } = 0.1;
    /// <summary>Changes under evaluation at once.</summary>
    [Id(4)] public int MaxConcurrentTunings { get; init; } = 2;
    /// <summary>The largest step of one change, as a share of the value it moves (weights: of the whole).</summary>
    [Id(5)] public double LearningRate { get; init; } = 0.1;
    /// <summary>Headroom above a baseline (thresholds, timeouts), and how much worse a change may make its metric before it is rolled back.</summary>
    [Id(6)] public double SafetyMargin { get; init; } = 0.2;
    /// <summary>False: recommend only; nothing is applied without an operator.</summary>
    [Id(7)] public bool AutoApply { get; init; } = true;
    /// <summary>How long an applied change is watched before it is kept.</summary>
    [Id(8)] public double EvaluationMinutes { get; init; } = 30;

    [System.Text.Json.Serialization.JsonIgnore] public TimeSpan Interval => TimeSpan.FromMinutes(TuningIntervalMinutes);
    [System.Text.Json.Serialization.JsonIgnore] public TimeSpan Evaluation => TimeSpan.FromMinutes(EvaluationMinutes);
}

/// <summary>A change of configuration: only the fields given change.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningConfigurationUpdate")]
public sealed record TuningConfigurationUpdate
{
    [Id(0)] public bool? Enabled { get; init; }
    [Id(1)] public double? TuningIntervalMinutes { get; init; }
    [Id(2)] public double? ConfidenceThreshold { get; init; }
    [Id(3)] public double? ImpactThreshold { get; init; }
    [Id(4)] public int? MaxConcurrentTunings { get; init; }
    [Id(5)] public double? LearningRate { get; init; }
    [Id(6)] public double? SafetyMargin { get; init; }
    [Id(7)] public bool? AutoApply { get; init; }
    [Id(8)] public double? EvaluationMinutes { get; init; }

    /// <summary>The configuration with these fields changed, checked as a whole.</summary>
    public TuningConfiguration ApplyTo(TuningConfiguration current)
    {
        var next = current with
        {
            Enabled = Enabled ?? current.Enabled,
            TuningIntervalMinutes = TuningIntervalMinutes ?? current.TuningIntervalMinutes,
            ConfidenceThreshold = ConfidenceThreshold ?? current.ConfidenceThreshold,
            ImpactThreshold = ImpactThreshold ?? current.ImpactThreshold,
            MaxConcurrentTunings = MaxConcurrentTunings ?? current.MaxConcurrentTunings,
            LearningRate = LearningRate ?? current.LearningRate,
            SafetyMargin = SafetyMargin ?? current.SafetyMargin,
            AutoApply = AutoApply ?? current.AutoApply,
            EvaluationMinutes = EvaluationMinutes ?? current.EvaluationMinutes,
        };
        TuningValidator.Validate(next);
        return next;
    }
}
