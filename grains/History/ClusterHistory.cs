using Kyros.Perf.Stats;

namespace Kyros.Perf.History;

/// <summary>
/// History as the whole cluster holds it: every active silo's file is a shard, asked through its <see cref="IHistoryShardGrain"/>,
/// and the rows are merged with the newest write winning per bucket. A model's grain writes each changed minute whole,
/// from everything it holds, so where it moved between hosts the newer row already counts what the older one did:
/// no bucket is counted twice, and every silo answers the same.
/// </summary>
public sealed class ClusterHistory(IGrainFactory grains, IClusterMembershipService membership)
{
    public async Task<IReadOnlyList<(DateTimeOffset Start, MetricsAggregate Aggregate)>> QueryAsync(
        string model, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to)
    {
        // Silos that share a file (several on one machine) are read once each; the merge drops the repeats.
        var hosts = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.Name)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var shards = await Task.WhenAll(hosts.Select(host => grains.GetGrain<IHistoryShardGrain>(host).QueryAsync(model, (int)resolution, from, to)));
        return Newest(shards);
    }

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
