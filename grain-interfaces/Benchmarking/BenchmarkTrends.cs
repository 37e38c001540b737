namespace Kyros.Perf.Benchmarking;

/// <summary>
/// Which comparison to make: the newest finished run of <see cref="Config"/> (or <see cref="Run"/>) against the earlier
/// runs of the same configuration; optionally one model or one metric.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkTrendQuery")]
public sealed record BenchmarkTrendQuery(
    [property: Id(0)] string? Config = null,
    [property: Id(1)] string? Model = null,
    [property: Id(2)] string? Metric = null,
    [property: Id(3)] string? Run = null);

/// <summary>
/// One metric of one cell (model, mode, level) in the run against the baseline (the earlier runs' samples pooled):
/// the relative change with a 95% bootstrap confidence interval, and whether it is a significant regression.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkTrend")]
public sealed record BenchmarkTrend
{
    [Id(0)] public required string Model { get; init; }
    [Id(1)] public required string Mode { get; init; }
    [Id(2)] public required int Concurrency { get; init; }
    /// <summary><c>latency_p50</c>, <c>latency_p95</c>, <c>ttft_p50</c>, <c>tokens_per_second</c>, <c>error_rate</c>.</summary>
    [Id(3)] public required string Metric { get; init; }
    [Id(4)] public required double Baseline { get; init; }
    [Id(5)] public required double Current { get; init; }
    /// <summary>(current − baseline) / baseline.</summary>
    [Id(6)] public required double Change { get; init; }
    [Id(7)] public required double ChangeLow { get; init; }
    [Id(8)] public required double ChangeHigh { get; init; }
    /// <summary>The interval excludes no change.</summary>
    [Id(9)] public required bool Significant { get; init; }
    /// <summary>Significant, in the worse direction, and by more than the regression threshold.</summary>
    [Id(10)] public required bool Regression { get; init; }
    [Id(11)] public required int BaselineSamples { get; init; }
    [Id(12)] public required int CurrentSamples { get; init; }
}

/// <summary>A point of a metric's trend line: its value in one run.</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkTrendPoint")]
public sealed record BenchmarkTrendPoint(
    [property: Id(0)] string Run,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Model,
    [property: Id(3)] string Mode,
    [property: Id(4)] int Concurrency,
    [property: Id(5)] string Metric,
    [property: Id(6)] double Value);

[GenerateSerializer, Immutable, Alias("kyros.BenchmarkTrendReport")]
public sealed record BenchmarkTrendReport
{
    [Id(0)] public required string ConfigKey { get; init; }
    /// <summary>The run compared; null when the configuration has no finished run.</summary>
    [Id(1)] public string? Run { get; init; }
    /// <summary>The earlier runs pooled as the baseline, newest first.</summary>
    [Id(2)] public string[] BaselineRuns { get; init; } = [];
    [Id(3)] public BenchmarkTrend[] Changes { get; init; } = [];
    /// <summary>Every finished run of the configuration, oldest first: the trend lines.</summary>
    [Id(4)] public BenchmarkTrendPoint[] Points { get; init; } = [];
    /// <summary>The smallest worsening that counts as a regression (for example 0.1: 10 %).</summary>
    [Id(5)] public required double RegressionThreshold { get; init; }
}
