namespace Kyros.Perf.Resources;

/// <summary>The thresholds a metric has until the cluster or a host sets its own (warning / critical / emergency).</summary>
public static class DefaultThresholds
{
    public static readonly IReadOnlyDictionary<string, AlertThresholds> All = new Dictionary<string, AlertThresholds>
    {
        [ResourceMetrics.Cpu] = new(70, 85, 95),
        [ResourceMetrics.Memory] = new(75, 90, 95),
        [ResourceMetrics.Disk] = new(80, 90, 95),
        [ResourceMetrics.Network] = new(80, 90, 95),
        [ResourceMetrics.GpuUtilization] = new(90, 95, 99),
        [ResourceMetrics.GpuMemory] = new(85, 92, 97),
        [ResourceMetrics.GpuTemperature] = new(80, 87, 92),
    };

    /// <summary>Defaults, then the cluster's, then the host's: the last one set wins, metric by metric.</summary>
    public static IReadOnlyList<MetricThresholds> Resolve(
        IReadOnlyDictionary<string, AlertThresholds> cluster, IReadOnlyDictionary<string, AlertThresholds>? node = null)
    {
        var result = new List<MetricThresholds>();
        foreach (var metric in ResourceMetrics.All)
            if (For(metric, cluster, node) is { } thresholds) result.Add(thresholds);
        return result;
    }

    /// <summary>One metric's thresholds in force and their scope; null when it has none.</summary>
    public static MetricThresholds? For(string metric, IReadOnlyDictionary<string, AlertThresholds> cluster, IReadOnlyDictionary<string, AlertThresholds>? node = null) =>
        node is not null && node.TryGetValue(metric, out var own) ? new(metric, own, "node")
        : cluster.TryGetValue(metric, out var shared) ? new(metric, shared, "cluster")
        : All.TryGetValue(metric, out var fallback) ? new(metric, fallback, "default")
        : null;
}
