using Kyros.Perf.History;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.History;

public sealed class ClusterHistoryTests
{
    private static HistoryShardRow Row(long bucket, long writtenAt, params double[] latencies)
    {
        var aggregate = new MetricsAggregate();
        foreach (var latency in latencies) aggregate.Add(Records.Valid("gpt-4", latency));
        return new HistoryShardRow(bucket, writtenAt, aggregate.ToBytes());
    }

    [Fact]
    public void Where_a_models_grain_moved_hosts_the_newest_row_of_each_bucket_wins_and_nothing_counts_twice()
    {
        // Host a held the grain until minute 120 was half done; host b took over and rewrote minute 120 whole.
        var a = new[] { Row(60, 1_000, 1, 2), Row(120, 1_500, 3) };
        var b = new[] { Row(120, 2_000, 3, 4, 5), Row(180, 2_500, 6) };
        var merged = ClusterHistory.Newest([a, b]);
        Assert.Equal([60L, 120L, 180L], merged.Select(m => m.Start.ToUnixTimeSeconds()));
        Assert.Equal([2L, 3L, 1L], merged.Select(m => m.Aggregate.Count));
        // The order of the shards does not matter, and a shard read twice (silos sharing a file) changes nothing.
        Assert.Equal(merged.Select(m => m.Aggregate.Count), ClusterHistory.Newest([b, a, b]).Select(m => m.Aggregate.Count));
    }

    [Fact]
    public void Events_read_from_several_files_count_once()
    {
        // The same file read through two silos of one machine, and a second host's own entries.
        int[] shared = [1, 2, 3];
        int[] other = [3, 4];
        Assert.Equal([1, 2, 3, 4], ClusterHistory.Once([shared, shared, other], e => e).Order());
    }
}
