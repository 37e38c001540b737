using Kyros.Perf.Catalog;
using Kyros.Perf.Resources;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Tuning;

/// <summary>A model as a cycle sees it: its last hour, minute by minute, and what tuning has set for it.</summary>
public sealed record ModelObservation(
    ModelDescriptor Model,
    ModelSummary LastHour,
    IReadOnlyList<ModelMinute> Minutes,
    double TimeoutSeconds,
    double Penalty,
    ModelHealth Health = ModelHealth.Healthy);

/// <summary>A host as a cycle sees it: its last hour and the thresholds in force.</summary>
public sealed record HostObservation(string Node, NodeSummary Summary, IReadOnlyList<MetricThresholds> Thresholds);

/// <summary>Everything one cycle read. Rules are pure functions of it, so they are tested without a cluster.</summary>
public sealed record TuningInputs(
    DateTimeOffset Now,
    TuningConfiguration Configuration,
    IReadOnlyList<ModelObservation> Models,
    IReadOnlyList<HostObservation> Hosts,
    /// <summary>Alert events of the lookback, oldest first.</summary>
    IReadOnlyList<AlertEvent> Alerts,
    TuningOverrides Overrides,
    /// <summary>The cluster's model alert rules in force; null when they could not be read (their rule proposes nothing).</summary>
    Alerts.ModelAlertRules? ModelRules = null)
{
    /// <summary>How far back a cycle looks: at least an hour, and at least two intervals.</summary>
    public static TimeSpan Lookback(TuningConfiguration configuration) =>
        TimeSpan.FromMinutes(Math.Max(60, 2 * configuration.TuningIntervalMinutes));

    /// <summary>The adaptive strategy's base weights in force: tuned, or the balanced strategy's.</summary>
    public RoutingWeights AdaptiveBase => Overrides.AdaptiveBase ?? RoutingWeights.For(RoutingStrategy.Balanced);
}

/// <summary>What a rule proposes before the tuner gives it an id, a time and a status.</summary>
public sealed record TuningProposal
{
    public required string Rule { get; init; }
    public required string Action { get; init; }
    public required string Target { get; init; }
    public double? CurrentValue { get; init; }
    public double? RecommendedValue { get; init; }
    public RoutingWeights? CurrentWeights { get; init; }
    public RoutingWeights? RecommendedWeights { get; init; }
    public required double Confidence { get; init; }
    public required double ExpectedImpact { get; init; }
    public required string Reasoning { get; init; }
    public IReadOnlyList<TuningEvidence> Evidence { get; init; } = [];
    /// <summary>The metric the change is judged by once applied, its value now, and its direction.</summary>
    public string? EvaluationMetric { get; init; }
    public double? Baseline { get; init; }
    public bool LowerIsBetter { get; init; } = true;
}
