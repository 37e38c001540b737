namespace Kyros.Perf.Resources;

/// <summary>One series over a window: min, mean, max, p95 and the latest value, with the sample count.</summary>
[GenerateSerializer, Immutable, Alias("kyros.MetricSummary")]
public sealed record MetricSummary(
    [property: Id(0)] string Series,
    [property: Id(1)] string Metric,
    [property: Id(2)] string Unit,
    [property: Id(3)] int Samples,
    [property: Id(4)] double Min,
    [property: Id(5)] double Mean,
    [property: Id(6)] double Max,
    [property: Id(7)] double P95,
    [property: Id(8)] double Latest,
    [property: Id(9)] DateTimeOffset LatestAt);

public enum PatternKind
{
    Spike,
    GradualIncrease,
    Cycle,
}

/// <summary>
/// A pattern found in a series. <see cref="Confidence"/> is 0-1: for a spike, how far the robust z-score passes the
/// bound; for an increase, the share of the variance the trend explains; for a cycle, the autocorrelation at the period.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.PatternDetection")]
public sealed record PatternDetection
{
    [Id(0)] public required string Series { get; init; }
    [Id(1)] public required PatternKind Kind { get; init; }
    [Id(2)] public required double Confidence { get; init; }
    [Id(3)] public required string Description { get; init; }
    [Id(4)] public required DateTimeOffset DetectedAt { get; init; }
    /// <summary>Spike: the robust z-score of the value.</summary>
    [Id(5)] public double? ZScore { get; init; }
    /// <summary>Spike: the value. Increase: the fitted value now.</summary>
    [Id(6)] public double? Value { get; init; }
    /// <summary>Increase: the slope per minute and its t statistic.</summary>
    [Id(7)] public double? SlopePerMinute { get; init; }
    [Id(8)] public double? TStatistic { get; init; }
    /// <summary>Increase: the next threshold above the value and when the trend will cross it.</summary>
    [Id(9)] public double? ForecastThreshold { get; init; }
    [Id(10)] public DateTimeOffset? ForecastCrossingAt { get; init; }
    /// <summary>Cycle: the period found.</summary>
    [Id(11)] public TimeSpan? Period { get; init; }
}

[GenerateSerializer, Immutable, Alias("kyros.NodeSummary")]
public sealed record NodeSummary
{
    [Id(0)] public required string Node { get; init; }
    [Id(1)] public required string Group { get; init; }
    [Id(2)] public required TimeSpan Window { get; init; }
    [Id(3)] public required int SampleCount { get; init; }
    [Id(4)] public DateTimeOffset? LastSampleAt { get; init; }
    [Id(5)] public required IReadOnlyList<MetricSummary> Metrics { get; init; }
    [Id(6)] public required IReadOnlyList<PatternDetection> Patterns { get; init; }
    [Id(7)] public required IReadOnlyList<ActiveAlert> ActiveAlerts { get; init; }
    /// <summary>The silo this node's grain runs on (its own host's silo when the host has one).</summary>
    [Id(8)] public required string Silo { get; init; }
    /// <summary>True when the grain samples its host itself; false when samples are pushed (an agent).</summary>
    [Id(9)] public required bool SelfSampled { get; init; }
}

/// <summary>Every host's summary and, per metric, the cluster's figures (mean of the hosts' means, max of their maxima).</summary>
[GenerateSerializer, Immutable, Alias("kyros.ClusterResourceSummary")]
public sealed record ClusterResourceSummary(
    [property: Id(0)] TimeSpan Window,
    [property: Id(1)] IReadOnlyList<NodeSummary> Nodes,
    [property: Id(2)] IReadOnlyList<MetricSummary> Cluster);

/// <summary>A host's sustained use, the input to scaling advice. Coverage is the share of the window that has samples.</summary>
[GenerateSerializer, Immutable, Alias("kyros.NodeUsage")]
public sealed record NodeUsage(
    [property: Id(0)] string Node,
    [property: Id(1)] string Group,
    [property: Id(2)] double? RecentCpu,
    [property: Id(3)] double? RecentGpu,
    [property: Id(4)] double RecentCoverage,
    [property: Id(5)] double? LongCpu,
    [property: Id(6)] double? LongGpu,
    [property: Id(7)] double LongCoverage);

public enum ScalingAction
{
    Hold,
    ScaleOut,
    ScaleIn,
}

/// <summary>Advice for a host group (or <c>cluster</c>), the figures that led to it, and a confidence 0-1.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ScalingRecommendation")]
public sealed record ScalingRecommendation
{
    [Id(0)] public required string Scope { get; init; }
    [Id(1)] public required ScalingAction Action { get; init; }
    [Id(2)] public required double Confidence { get; init; }
    [Id(3)] public required string Reason { get; init; }
    [Id(4)] public required int Hosts { get; init; }
    [Id(5)] public double? RecentCpu { get; init; }
    [Id(6)] public double? RecentGpu { get; init; }
    [Id(7)] public double? LongCpu { get; init; }
    [Id(8)] public double? LongGpu { get; init; }
}

/// <summary>One host's samples over a window, series by series, thinned to at most a set number of points each (for charts).</summary>
[GenerateSerializer, Immutable, Alias("kyros.NodeSeries")]
public sealed record NodeSeries(
    [property: Id(0)] string Node,
    [property: Id(1)] TimeSpan Window,
    [property: Id(2)] IReadOnlyList<MetricSeries> Series);

[GenerateSerializer, Immutable, Alias("kyros.MetricSeries")]
public sealed record MetricSeries(
    [property: Id(0)] string Series,
    [property: Id(1)] string Metric,
    [property: Id(2)] string Unit,
    [property: Id(3)] IReadOnlyList<DateTimeOffset> Timestamps,
    [property: Id(4)] IReadOnlyList<double> Values);
