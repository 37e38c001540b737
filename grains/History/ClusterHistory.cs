using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Kyros.Perf.Tuning;

namespace Kyros.Perf.History;

/// <summary>
/// History as the whole cluster holds it: every active silo's file is a shard, asked through its <see cref="IHistoryShardGrain"/>.
/// Model roll-ups are merged with the newest write winning per bucket; the tuner's and the alert log's events, each once. A model's grain writes each changed minute whole,
/// from everything it holds, so where it moved between hosts the newer row already counts what the older one did:
/// no bucket is counted twice, and every silo answers the same.
/// </summary>
public sealed class ClusterHistory(IGrainFactory grains, IClusterMembershipService membership)
{
    public async Task<IReadOnlyList<(DateTimeOffset Start, MetricsAggregate Aggregate)>> QueryAsync(
        string model, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to) =>
        Newest(await Task.WhenAll(Shards().Select(shard => shard.QueryAsync(model, (int)resolution, from, to))));

    /// <summary>The tuner's history from every host's file (the tuner writes where it runs, and it moves), each entry once, oldest first.</summary>
    public async Task<IReadOnlyList<TuningHistoryEntry>> TuningAsync(DateTimeOffset from, DateTimeOffset to, int limit) =>
        Once(await Task.WhenAll(Shards().Select(shard => shard.QueryTuningAsync(from, to, limit))), e => (e.Timestamp, e.Recommendation.Id, e.Recommendation.Status))
            .OrderBy(e => e.Timestamp).Take(limit).ToArray();

    /// <summary>Alert events from every host's file (the alert log writes where it runs), each once, newest first.</summary>
    public async Task<IReadOnlyList<AlertEvent>> AlertsAsync(DateTimeOffset? since, int limit) =>
        Once(await Task.WhenAll(Shards().Select(shard => shard.QueryAlertsAsync(since, limit))), e => (e.AlertId, e.Kind, e.Timestamp))
            .OrderByDescending(e => e.Timestamp).Take(limit).ToArray();

    /// <summary>
    /// Benchmark runs from every host's file, newest first. A run reactivated on another host after its silo died is
    /// in both files; the copy that was finished last (or started, or created) wins.
    /// </summary>
    public async Task<IReadOnlyList<Benchmarking.BenchmarkRun>> BenchmarkRunsAsync(string? configKey, Benchmarking.BenchmarkStatus? status, int limit) =>
        [.. PerFile(await Task.WhenAll(Shards().Select(shard => shard.QueryBenchmarkRunsAsync(configKey, status, limit))))
            .GroupBy(r => r.Id).Select(g => g.MaxBy(r => r.FinishedAt ?? r.StartedAt ?? r.CreatedAt)!)
            .OrderByDescending(r => r.CreatedAt).Take(limit)];

    /// <summary>A run's samples, from whichever host's file holds them.</summary>
    public async Task<IReadOnlyList<Benchmarking.BenchmarkSample>> BenchmarkSamplesAsync(string runId) =>
        [.. PerFile(await Task.WhenAll(Shards().Select(shard => shard.QueryBenchmarkSamplesAsync(runId))))];

    /// <summary>The items of each distinct file once.</summary>
    private static IEnumerable<T> PerFile<T>(IEnumerable<HistoryShardPart<T>> parts) => parts.DistinctBy(p => p.File).SelectMany(p => p.Items);

    /// <summary>One shard per active silo; silos that share a file (several on one machine) read it each, and the merges drop the repeats.</summary>
    private IEnumerable<IHistoryShardGrain> Shards() =>
        membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name)
            .Distinct(StringComparer.OrdinalIgnoreCase).Select(host => grains.GetGrain<IHistoryShardGrain>(host));

    /// <summary>Every entry of every shard once, by <paramref name="key"/>.</summary>
    public static IEnumerable<T> Once<T, TKey>(IEnumerable<T[]> shards, Func<T, TKey> key) => shards.SelectMany(s => s).DistinctBy(key);

    /// <summary>Per bucket, the row written last, in bucket order.</summary>
    public static IReadOnlyList<(DateTimeOffset Start, MetricsAggregate Aggregate)> Newest(IEnumerable<HistoryShardRow[]> shards)
    {
        var newest = new SortedDictionary<long, HistoryShardRow>();
        foreach (var row in shards.SelectMany(s => s))
            if (!newest.TryGetValue(row.BucketStart, out var kept) || row.WrittenAt > kept.WrittenAt)
                newest[row.BucketStart] = row;
        return [.. newest.Values.Select(r => (DateTimeOffset.FromUnixTimeSeconds(r.BucketStart), MetricsAggregate.FromBytes(r.Data)))];
    }
}
