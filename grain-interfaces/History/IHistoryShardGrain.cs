namespace Kyros.Perf.History;

/// <summary>
/// One host's share of the history: the rows its SQLite file holds. Keyed by the host's silo name and placed on that
/// silo, so a query reads every host's file by asking each host's shard.
/// </summary>
[Alias("kyros.IHistoryShardGrain")]
public interface IHistoryShardGrain : IGrainWithStringKey
{
    /// <summary>The model's rows at <paramref name="resolutionSeconds"/> (60 or 3,600) with bucket starts in [from, to).</summary>
    [Alias("query")]
    Task<HistoryShardRow[]> QueryAsync(string model, int resolutionSeconds, DateTimeOffset from, DateTimeOffset to);

    /// <summary>The tuner's history entries in [from, to] that this host's file holds, oldest first, at most <paramref name="limit"/>.</summary>
    [Alias("tuning")]
    Task<Tuning.TuningHistoryEntry[]> QueryTuningAsync(DateTimeOffset from, DateTimeOffset to, int limit);

    /// <summary>Alert events since <paramref name="since"/> (all when null) that this host's file holds, newest first, at most <paramref name="limit"/>.</summary>
    [Alias("alerts")]
    Task<Resources.AlertEvent[]> QueryAlertsAsync(DateTimeOffset? since, int limit);

    /// <summary>The benchmark runs this host's file holds (newest first), and which file that is: silos on one machine may share one.</summary>
    [Alias("benchmark-runs")]
    Task<HistoryShardPart<Benchmarking.BenchmarkRun>> QueryBenchmarkRunsAsync(string? configKey, Benchmarking.BenchmarkStatus? status, int limit);

    /// <summary>A run's raw samples in this host's file (the file of the silo that ran it holds them), and which file that is.</summary>
    [Alias("benchmark-samples")]
    Task<HistoryShardPart<Benchmarking.BenchmarkSample>> QueryBenchmarkSamplesAsync(string runId);
}

/// <summary>What one host's file holds, with the file's identity (machine and path), so that a file read through two silos counts once.</summary>
[GenerateSerializer, Immutable, Alias("kyros.HistoryShardPart`1")]
public sealed record HistoryShardPart<T>([property: Id(0)] string File, [property: Id(1)] T[] Items);

/// <summary>One bucket's row as a host's file holds it: its start (Unix seconds), when it was written (Unix ms), and its aggregate's bytes.</summary>
[GenerateSerializer, Immutable, Alias("kyros.HistoryShardRow")]
public sealed record HistoryShardRow([property: Id(0)] long BucketStart, [property: Id(1)] long WrittenAt, [property: Id(2)] byte[] Data);
