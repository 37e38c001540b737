namespace Kyros.Perf.Resources;

/// <summary>
/// The metrics a host reports and how a sample flattens into series: <c>cpu</c>, <c>memory</c>, <c>disk:/</c>,
/// <c>network:eth0</c>, <c>gpu_utilization:0</c>, … A series is a metric and, where a host has several, its subject.
/// </summary>
public static class ResourceMetrics
{
    public const string Cpu = "cpu";
    public const string Memory = "memory";
    public const string Disk = "disk";
    /// <summary>The busier direction of an interface as a percentage of its link speed.</summary>
    public const string Network = "network";
    public const string NetworkIn = "network_in";
    public const string NetworkOut = "network_out";
    public const string Connections = "connections";
    public const string Queue = "queue";
    public const string GpuUtilization = "gpu_utilization";
    public const string GpuMemory = "gpu_memory";
    public const string GpuTemperature = "gpu_temperature";
    public const string GpuPower = "gpu_power";

    public static readonly IReadOnlyList<string> All =
        [Cpu, Memory, Disk, Network, NetworkIn, NetworkOut, Connections, Queue, GpuUtilization, GpuMemory, GpuTemperature, GpuPower];

    private static readonly HashSet<string> Percentages = [Cpu, Memory, Disk, Network, GpuUtilization, GpuMemory];

    public static bool IsKnown(string? metric) => metric is not null && All.Contains(metric);

    public static bool IsPercentage(string metric) => Percentages.Contains(metric);

    /// <summary>The largest value a threshold may take: 100 for percentages, 150 °C for temperature, otherwise unbounded.</summary>
    public static double UpperBound(string metric) => IsPercentage(metric) ? 100 : metric == GpuTemperature ? 150 : double.MaxValue;

    public static string Unit(string metric) => IsPercentage(metric) ? "%" : metric switch
    {
        GpuTemperature => "°C",
        GpuPower => "W",
        NetworkIn or NetworkOut => "B/s",
        _ => "",
    };

    public static string MetricOf(string series) => series.IndexOf(':') is var i and >= 0 ? series[..i] : series;

    /// <summary>Every series a sample carries, with its value.</summary>
    public static IEnumerable<(string Series, string Metric, double Value)> Flatten(ResourceSample sample)
    {
        if (sample.CpuPercent is { } cpu) yield return (Cpu, Cpu, cpu);
        if (sample.MemoryPercent is { } memory) yield return (Memory, Memory, memory);
        foreach (var disk in sample.Disks) yield return ($"{Disk}:{disk.Mount}", Disk, disk.Percent);
        foreach (var nic in sample.Networks)
        {
            if (nic.Percent is { } percent) yield return ($"{Network}:{nic.Interface}", Network, percent);
            yield return ($"{NetworkIn}:{nic.Interface}", NetworkIn, nic.ReceiveBytesPerSecond);
            yield return ($"{NetworkOut}:{nic.Interface}", NetworkOut, nic.TransmitBytesPerSecond);
        }
        if (sample.TcpConnections is { } connections) yield return (Connections, Connections, connections);
        if (sample.QueueSize is { } queue) yield return (Queue, Queue, queue);
        foreach (var gpu in sample.Gpus)
        {
            if (gpu.UtilizationPercent is { } utilization) yield return ($"{GpuUtilization}:{gpu.Index}", GpuUtilization, utilization);
            yield return ($"{GpuMemory}:{gpu.Index}", GpuMemory, gpu.MemoryPercent);
            if (gpu.TemperatureCelsius is { } temperature) yield return ($"{GpuTemperature}:{gpu.Index}", GpuTemperature, temperature);
            if (gpu.PowerWatts is { } power) yield return ($"{GpuPower}:{gpu.Index}", GpuPower, power);
        }
    }
}
