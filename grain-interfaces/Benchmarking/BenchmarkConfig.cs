namespace Kyros.Perf.Benchmarking;

/// <summary>
/// A comparative benchmark of catalog models (the seed's names): the same prompts, in the same order, for every model;
/// closed-loop runs at each concurrency level, and optionally an open-loop load test. Arrays, not lists: the run is
/// kept in grain state, which must read it back.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkConfig")]
public sealed record BenchmarkConfig
{
    /// <summary>Catalog ids of the models to compare.</summary>
    [Id(0)] public string[] ModelTypes { get; init; } = [];
    [Id(1)] public BenchmarkPrompt[] TestPrompts { get; init; } = [];
    /// <summary>Requests per model at each concurrency level: the prompts in turn, from the first, this many times in all.</summary>
    [Id(2)] public int IterationsPerModel { get; init; } = 10;
    /// <summary>Closed-loop levels: callers that each send the next request as soon as the last one answered.</summary>
    [Id(3)] public int[] ConcurrencyLevels { get; init; } = [1];
    /// <summary>Which figures the report shows (all are measured): <see cref="BenchmarkMetrics.All"/>.</summary>
    [Id(4)] public string[] MetricsToCollect { get; init; } = [.. BenchmarkMetrics.All];
    [Id(5)] public int MaxTokens { get; init; } = 256;
    [Id(6)] public BenchmarkSlo Slo { get; init; } = new();
    /// <summary>Seeds the order of models within each round and the open-loop arrivals: the same seed, the same schedule.</summary>
    [Id(7)] public int Seed { get; init; } = 1;
    /// <summary>An open-loop load test after the closed-loop levels; null for none.</summary>
    [Id(8)] public BenchmarkLoad? Load { get; init; }
    /// <summary>
    /// Whether the run's calls also feed the live statistics that routing reads. Off by default: a benchmark's synthetic
    /// traffic would otherwise move production routing.
    /// </summary>
    [Id(9)] public bool RecordLiveStatistics { get; init; }
    /// <summary>The name runs are compared under for trends; by default a digest of what the run measures.</summary>
    [Id(10)] public string? Name { get; init; }
}

[GenerateSerializer, Immutable, Alias("kyros.BenchmarkPrompt")]
public sealed record BenchmarkPrompt(
    [property: Id(0)] string Prompt,
    /// <summary>The expected answer: quality is 1 when the answer equals it or contains it (case and spacing aside), 0 otherwise.</summary>
    [property: Id(1)] string? Expected = null);

/// <summary>The service level a request must meet to count toward goodput; null bounds are not checked.</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkSlo")]
public sealed record BenchmarkSlo(
    [property: Id(0)] double? TtftSeconds = null,
    [property: Id(1)] double? LatencySeconds = null);

/// <summary>
/// Open-loop arrivals: Poisson at <see cref="TargetRps"/> per model for <see cref="DurationSeconds"/>, in
/// <see cref="RampSteps"/> equal steps up to that rate (1: no ramp), with at most <see cref="MaxInFlight"/> requests in
/// flight per model. Latency is measured from each request's scheduled start.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkLoad")]
public sealed record BenchmarkLoad(
    [property: Id(0)] double TargetRps,
    [property: Id(1)] double DurationSeconds,
    [property: Id(2)] int RampSteps = 1,
    [property: Id(3)] int MaxInFlight = 256);

public static class BenchmarkMetrics
{
    public const string Latency = "latency";
    public const string Ttft = "ttft";
    public const string TokensPerSecond = "tokens_per_second";
    public const string Quality = "quality";
    public const string Cost = "cost";
    public const string Throughput = "throughput";

    public static readonly IReadOnlyList<string> All = [Latency, Ttft, TokensPerSecond, Quality, Cost, Throughput];
}
