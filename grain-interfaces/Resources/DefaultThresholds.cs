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
        IReadOnlyDictionary<string, AlertThresholds> cluster, IReadOnlyDictionary<string, AlertThresholds> node)
    {
        var result = new List<MetricThresholds>();
        foreach (var metric in ResourceMetrics.All)
        {
            if (node.TryGetValue(metric, out var own)) result.Add(new(metric, own, "node"));
            else if (cluster.TryGetValue(metric, out var shared)) result.Add(new(metric, shared, "cluster"));
            else if (All.TryGetValue(metric, out var fallback)) result.Add(new(metric, fallback, "default"));
        }
        return result;
    }
}
