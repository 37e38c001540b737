namespace Kyros.Perf.Benchmarking;

public enum BenchmarkStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Cancelled,
}

public static class BenchmarkStatuses
{
    public static string Name(BenchmarkStatus status) => status.ToString().ToLowerInvariant();

    public static bool IsFinished(BenchmarkStatus status) => status is BenchmarkStatus.Completed or BenchmarkStatus.Failed or BenchmarkStatus.Cancelled;
}

/// <summary>A benchmark run as its grain keeps it: the request, where it stands, and the results of every cell finished so far.</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkRun")]
public sealed record BenchmarkRun
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required BenchmarkStatus Status { get; init; }
    [Id(2)] public required BenchmarkConfig Config { get; init; }
    /// <summary>The name runs are compared under (the config's name, or a digest of what it measures).</summary>
    [Id(3)] public required string ConfigKey { get; init; }
    [Id(4)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(5)] public DateTimeOffset? StartedAt { get; init; }
    [Id(6)] public DateTimeOffset? FinishedAt { get; init; }
    [Id(7)] public required BenchmarkProgress Progress { get; init; }
    /// <summary>One per model and level (closed loop) or per model (load test), in the order they finished.</summary>
    [Id(8)] public BenchmarkResult[] Results { get; init; } = [];
    /// <summary>Why it failed or was cancelled.</summary>
    [Id(9)] public string? Error { get; init; }
    /// <summary>The silo that ran (or runs) it.</summary>
    [Id(10)] public string? Silo { get; init; }
}

/// <summary>Requests done of those planned, and what the run is doing now (for example <c>concurrency 4</c> or <c>load</c>).</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkProgress")]
public sealed record BenchmarkProgress(
    [property: Id(0)] int Completed,
    [property: Id(1)] int Total,
    [property: Id(2)] string Phase)
{
    public double Fraction => Total == 0 ? 0 : Math.Min(1, (double)Completed / Total);
}

/// <summary>A distribution's summary from the raw per-request samples: exact order statistics, not a sketch.</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkDistribution")]
public sealed record BenchmarkDistribution(
    [property: Id(0)] int Count,
    [property: Id(1)] double Mean,
    [property: Id(2)] double P50,
    [property: Id(3)] double P90,
    [property: Id(4)] double P95,
    [property: Id(5)] double P99,
    [property: Id(6)] double Max)
{
    public static readonly BenchmarkDistribution Empty = new(0, 0, 0, 0, 0, 0, 0);
}

/// <summary>One cell of a run: a model at one closed-loop concurrency level, or a model under the open-loop load test.</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkResult")]
public sealed record BenchmarkResult
{
    [Id(0)] public required string Model { get; init; }
    /// <summary><c>concurrency</c> (closed loop) or <c>load</c> (open loop).</summary>
    [Id(1)] public required string Mode { get; init; }
    /// <summary>The closed-loop level; for a load test, its cap on requests in flight.</summary>
    [Id(2)] public required int Concurrency { get; init; }
    /// <summary>The load test's target rate (requests/s); null in the closed loop.</summary>
    [Id(3)] public double? TargetRps { get; init; }
    [Id(4)] public required int Requests { get; init; }
    [Id(5)] public required int Successes { get; init; }
    /// <summary>Failed requests by kind (<c>timeout</c>, <c>rate_limit</c>, <c>server_error</c>...).</summary>
    [Id(6)] public Dictionary<string, int> Errors { get; init; } = [];
    /// <summary>End-to-end seconds of successful requests; in a load test, from the scheduled start (so queueing cannot hide).</summary>
    [Id(7)] public required BenchmarkDistribution Latency { get; init; }
    /// <summary>Seconds to the first token of successful requests; in a load test, from the scheduled start.</summary>
    [Id(8)] public required BenchmarkDistribution Ttft { get; init; }
    /// <summary>Seconds between output tokens after the first, per request.</summary>
    [Id(9)] public required BenchmarkDistribution InterTokenLatency { get; init; }
    /// <summary>Output tokens per second of each request's own generation, averaged over requests.</summary>
    [Id(10)] public required double OutputTokensPerSecond { get; init; }
    /// <summary>Output tokens per second of the whole cell: all tokens over its wall time.</summary>
    [Id(11)] public required double TotalOutputTokensPerSecond { get; init; }
    [Id(12)] public required double RequestsPerSecond { get; init; }
    [Id(13)] public required double CostTotal { get; init; }
    [Id(14)] public required double CostPerRequest { get; init; }
    /// <summary>Mean quality of the scored answers (prompts with an expected answer); null when none was scored.</summary>
    [Id(15)] public double? Quality { get; init; }
    [Id(16)] public int QualityScored { get; init; }
    /// <summary>The share of all requests that succeeded within the SLO.</summary>
    [Id(17)] public required double Goodput { get; init; }
    /// <summary>Load test: requests sent more than <c>LateAfter</c> after their scheduled start (the cap was full, or the generator behind).</summary>
    [Id(18)] public int LateSends { get; init; }
    /// <summary>Load test: the largest delay of a send behind its schedule, in seconds.</summary>
    [Id(19)] public double MaxSendDelay { get; init; }
    [Id(20)] public required double WallSeconds { get; init; }

    public double ErrorRate => Requests == 0 ? 0 : 1 - (double)Successes / Requests;
}

/// <summary>One request of a run, as measured: the raw sample every figure is computed from.</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkSample")]
public sealed record BenchmarkSample(
    [property: Id(0)] string Model,
    [property: Id(1)] string Mode,
    [property: Id(2)] int Concurrency,
    [property: Id(3)] int Prompt,
    /// <summary>Seconds from the cell's start to when the request was due (load) or sent (closed loop).</summary>
    [property: Id(4)] double ScheduledAt,
    /// <summary>Seconds the send lagged its schedule (0 in the closed loop).</summary>
    [property: Id(5)] double SendDelay,
    /// <summary>Seconds from the scheduled start to the last token (load), or from the send (closed loop).</summary>
    [property: Id(6)] double Latency,
    [property: Id(7)] double? Ttft,
    [property: Id(8)] int InputTokens,
    [property: Id(9)] int OutputTokens,
    [property: Id(10)] bool Success,
    [property: Id(11)] string? ErrorKind,
    [property: Id(12)] double Cost,
    [property: Id(13)] double? Quality);
