namespace Kyros.Perf.Resources;

/// <summary>The cluster's figure per metric from every host's summary.</summary>
public static class ClusterMetrics
{
    /// <summary>
    /// Per metric across hosts: the sample-weighted mean, the min and the max; p95 is the worst host's (raw samples are
    /// not merged), and latest is the mean of the hosts' latest values.
    /// </summary>
    public static IReadOnlyList<MetricSummary> Merge(IEnumerable<NodeSummary> nodes) =>
        nodes.SelectMany(s => s.Metrics).GroupBy(m => m.Metric).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new MetricSummary(g.Key, g.Key, g.First().Unit, g.Sum(m => m.Samples), g.Min(m => m.Min),
                g.Sum(m => m.Mean * m.Samples) / g.Sum(m => m.Samples), g.Max(m => m.Max), g.Max(m => m.P95),
                g.Average(m => m.Latest), g.Max(m => m.LatestAt)))
            .ToArray();
}
