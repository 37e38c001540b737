namespace Kyros.Perf.Resources;

/// <summary>
/// The one set of rules for pushed samples, host names and thresholds, shared by the SDK, the HTTP API and the grains.
/// Errors are <see cref="ArgumentException"/>s whose parameter name is the field as JSON spells it.
/// </summary>
public static class ResourceValidator
{
    public const int MaxNameLength = 128;
    public const int MaxBatchSize = 1_000;
    public const int MaxListLength = 256;
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(30);

    /// <summary>A host name: 1-128 characters of letters, digits, '.', '_' and '-'.</summary>
    public static void RequireNodeName(string? node, string field = "node")
    {
        if (string.IsNullOrEmpty(node)) throw Error(field, "is required and must not be empty.");
        if (!IsNodeName(node)) throw Error(field, $"must be 1-{MaxNameLength} characters of letters, digits, '.', '_' or '-'.");
    }

    public static bool IsNodeName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxNameLength && !name.AsSpan().ContainsAnyExcept(NameChars);

    /// <summary>A push: samples of one host, oldest first, each newer than <paramref name="after"/> (the host's last sample) when given.</summary>
    public static void ValidateBatch(string node, IReadOnlyList<ResourceSample>? samples, DateTimeOffset now, TimeSpan maxAge, DateTimeOffset? after = null)
    {
        RequireNodeName(node);
        if (samples is null || samples.Count == 0) throw Error("samples", "must hold at least one sample.");
        if (samples.Count > MaxBatchSize) throw Error("samples", $"holds {samples.Count} samples; a push holds at most {MaxBatchSize}.");
        for (var i = 0; i < samples.Count; i++)
        {
            var prefix = samples.Count == 1 ? "" : $"[{i}].";
            Validate(samples[i], now, maxAge, prefix);
            if (samples[i].Node != node) throw Error(prefix + "node", $"is '{samples[i].Node}' but the samples are pushed for '{node}'.");
            if (samples[i].Timestamp <= after)
                throw Error(prefix + "timestamp", $"{samples[i].Timestamp:O} is not after the previous sample ({after:O}); push samples oldest first, once each.");
            after = samples[i].Timestamp;
        }
    }

    public static void Validate(ResourceSample? sample, DateTimeOffset now, TimeSpan maxAge, string prefix = "")
    {
        if (sample is null) throw Error(prefix.Length == 0 ? "sample" : prefix.TrimEnd('.'), "is required.");
        RequireNodeName(sample.Node, prefix + "node");
        if (sample.Group is not null) RequireNodeName(sample.Group, prefix + "group");
        if (sample.Timestamp > now + MaxClockSkew)
            throw Error(prefix + "timestamp", $"is {sample.Timestamp:O}, more than {MaxClockSkew.TotalSeconds:0} s ahead of the server clock ({now:O}).");
        if (sample.Timestamp < now - maxAge)
            throw Error(prefix + "timestamp", $"is {sample.Timestamp:O}, older than the {maxAge} window samples are kept for.");

        if (sample.CpuPercent is { } cpu) RequirePercent(cpu, prefix + "cpu_percent");
        if (sample.MemoryPercent is { } memory) RequirePercent(memory, prefix + "memory_percent");
        if (sample.MemoryUsedBytes is { } used) RequireBytes(used, prefix + "memory_used_bytes");
        if (sample.MemoryTotalBytes is { } total) RequireBytes(total, prefix + "memory_total_bytes");
        if (sample.MemoryUsedBytes > sample.MemoryTotalBytes)
            throw Error(prefix + "memory_used_bytes", $"({sample.MemoryUsedBytes}) exceeds memory_total_bytes ({sample.MemoryTotalBytes}).");
        if (sample.TcpConnections is < 0) throw Error(prefix + "tcp_connections", $"must not be negative; got {sample.TcpConnections}.");
        if (sample.QueueSize is < 0) throw Error(prefix + "queue_size", $"must not be negative; got {sample.QueueSize}.");

        RequireList(sample.Disks, prefix + "disks");
        for (var i = 0; i < sample.Disks.Count; i++)
        {
            var (disk, at) = (sample.Disks[i], $"{prefix}disks[{i}].");
            RequireLabel(disk.Mount, at + "mount");
            RequireBytes(disk.UsedBytes, at + "used_bytes");
            RequireBytes(disk.TotalBytes, at + "total_bytes");
            if (disk.UsedBytes > disk.TotalBytes) throw Error(at + "used_bytes", $"({disk.UsedBytes}) exceeds total_bytes ({disk.TotalBytes}).");
        }
        RequireList(sample.Networks, prefix + "networks");
        for (var i = 0; i < sample.Networks.Count; i++)
        {
            var (nic, at) = (sample.Networks[i], $"{prefix}networks[{i}].");
            RequireLabel(nic.Interface, at + "interface");
            RequireRate(nic.ReceiveBytesPerSecond, at + "receive_bytes_per_second");
            RequireRate(nic.TransmitBytesPerSecond, at + "transmit_bytes_per_second");
            if (nic.LinkBytesPerSecond is { } link) RequireRate(link, at + "link_bytes_per_second");
        }
        RequireList(sample.Gpus, prefix + "gpus");
        for (var i = 0; i < sample.Gpus.Count; i++)
        {
            var (gpu, at) = (sample.Gpus[i], $"{prefix}gpus[{i}].");
            if (gpu.Index < 0) throw Error(at + "index", $"must not be negative; got {gpu.Index}.");
            if (sample.Gpus.Take(i).Any(g => g.Index == gpu.Index)) throw Error(at + "index", $"{gpu.Index} appears twice.");
            RequireLabel(gpu.Name, at + "name");
            if (gpu.UtilizationPercent is { } utilization) RequirePercent(utilization, at + "utilization_percent");
            RequireBytes(gpu.MemoryUsedBytes, at + "memory_used_bytes");
            RequireBytes(gpu.MemoryTotalBytes, at + "memory_total_bytes");
            if (gpu.MemoryUsedBytes > gpu.MemoryTotalBytes)
                throw Error(at + "memory_used_bytes", $"({gpu.MemoryUsedBytes}) exceeds memory_total_bytes ({gpu.MemoryTotalBytes}).");
            if (gpu.TemperatureCelsius is { } t && !(t >= -50 && t <= 150)) throw Error(at + "temperature_celsius", $"must be within -50..150; got {t}.");
            if (gpu.PowerWatts is { } w) RequireRate(w, at + "power_watts");
        }
    }

    /// <summary>Thresholds must name a known metric, lie within its range, and rise: info &lt; warning &lt; critical &lt; emergency.</summary>
    /// <summary>How many points a host's series are thinned to for a chart, unless asked otherwise.</summary>
    public const int DefaultSeriesPoints = 240;
    public const int MaxSeriesPoints = 10_000;

    public static void RequireSeriesPoints(int points, string field)
    {
        if (points is < 2 or > MaxSeriesPoints)
            throw new ArgumentOutOfRangeException(field, $"{field} must be between 2 and {MaxSeriesPoints}, not {points}.");
    }

    public static void ValidateThresholds(string? metric, AlertThresholds? thresholds)
    {
        if (!ResourceMetrics.IsKnown(metric))
            throw Error("metric", $"'{metric}' is not a metric; use one of {string.Join(", ", ResourceMetrics.All)}.");
        if (thresholds is null) throw Error("thresholds", "are required.");
        var max = ResourceMetrics.UpperBound(metric!);
        if (thresholds.Info is { } info) RequireThreshold(info, max, "info");
        RequireThreshold(thresholds.Warning, max, "warning");
        RequireThreshold(thresholds.Critical, max, "critical");
        RequireThreshold(thresholds.Emergency, max, "emergency");
        if (thresholds.Info >= thresholds.Warning) throw Error("info", $"({thresholds.Info}) must be below warning ({thresholds.Warning}).");
        if (thresholds.Warning >= thresholds.Critical) throw Error("critical", $"({thresholds.Critical}) must be above warning ({thresholds.Warning}).");
        if (thresholds.Critical >= thresholds.Emergency) throw Error("emergency", $"({thresholds.Emergency}) must be above critical ({thresholds.Critical}).");
    }

    private static void RequireThreshold(double value, double max, string field)
    {
        if (!double.IsFinite(value) || value < 0 || value > max)
            throw Error(field, max == double.MaxValue ? $"must be a finite number of at least 0; got {value}." : $"must be within 0..{max}; got {value}.");
    }

    private static void RequirePercent(double value, string field)
    {
        if (!(value >= 0 && value <= 100)) throw Error(field, $"must be a percentage within 0..100; got {value}.");
    }

    private static void RequireBytes(long value, string field)
    {
        if (value < 0) throw Error(field, $"must not be negative; got {value}.");
    }

    private static void RequireRate(double value, string field)
    {
        if (!double.IsFinite(value) || value < 0) throw Error(field, $"must be a finite number of at least 0; got {value}.");
    }

    private static void RequireLabel(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaxNameLength || value.Any(char.IsControl))
            throw Error(field, $"is required: 1-{MaxNameLength} characters, no control characters.");
    }

    private static void RequireList<T>(IReadOnlyList<T>? list, string field)
    {
        if (list is null) throw Error(field, "must be a list (empty when there is nothing).");
        if (list.Count > MaxListLength) throw Error(field, $"holds {list.Count} entries; at most {MaxListLength}.");
    }

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-");

    private static ArgumentException Error(string field, string message) => new($"{field} {message}", field);
}
