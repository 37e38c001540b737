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
}

/// <summary>One bucket's row as a host's file holds it: its start (Unix seconds), when it was written (Unix ms), and its aggregate's bytes.</summary>
[GenerateSerializer, Immutable, Alias("kyros.HistoryShardRow")]
public sealed record HistoryShardRow([property: Id(0)] long BucketStart, [property: Id(1)] long WrittenAt, [property: Id(2)] byte[] Data);
