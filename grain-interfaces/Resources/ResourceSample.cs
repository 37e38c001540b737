namespace Kyros.Perf.Resources;

/// <summary>
/// One reading of a host. Percentages are 0-100, bytes are bytes, rates are per second. A figure the host cannot
/// read is null (or absent from a list), never zero: a host with no GPU has no <see cref="Gpus"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ResourceSample")]
public sealed record ResourceSample
{
    [Id(0)] public required string Node { get; init; }
    [Id(1)] public required DateTimeOffset Timestamp { get; init; }
    /// <summary>CPU use against what this host (or its container's CPU limit) can give.</summary>
    [Id(2)] public double? CpuPercent { get; init; }
    [Id(3)] public double? MemoryPercent { get; init; }
    [Id(4)] public long? MemoryUsedBytes { get; init; }
    [Id(5)] public long? MemoryTotalBytes { get; init; }
    [Id(6)] public IReadOnlyList<DiskSample> Disks { get; init; } = [];
    [Id(7)] public IReadOnlyList<NetworkSample> Networks { get; init; } = [];
    /// <summary>Established TCP connections (IPv4 and IPv6).</summary>
    [Id(8)] public int? TcpConnections { get; init; }
    /// <summary>Requests waiting or in flight in this host's Kyros.Perf HTTP API; null on a host without a silo.</summary>
    [Id(9)] public int? QueueSize { get; init; }
    [Id(10)] public IReadOnlyList<GpuSample> Gpus { get; init; } = [];
    /// <summary>The host group scaling advice is given for (for example <c>gpu</c> or <c>api</c>); null means <c>default</c>.</summary>
    [Id(11)] public string? Group { get; init; }
}

[GenerateSerializer, Immutable, Alias("kyros.DiskSample")]
public sealed record DiskSample([property: Id(0)] string Mount, [property: Id(1)] long UsedBytes, [property: Id(2)] long TotalBytes)
{
    public double Percent => TotalBytes == 0 ? 0 : 100.0 * UsedBytes / TotalBytes;
}

[GenerateSerializer, Immutable, Alias("kyros.NetworkSample")]
public sealed record NetworkSample(
    [property: Id(0)] string Interface,
    [property: Id(1)] double ReceiveBytesPerSecond,
    [property: Id(2)] double TransmitBytesPerSecond,
    /// <summary>The link's speed in bytes per second where the kernel knows it; network alerts need it.</summary>
    [property: Id(3)] double? LinkBytesPerSecond = null)
{
    public double? Percent => LinkBytesPerSecond is > 0 and var link ? 100.0 * Math.Max(ReceiveBytesPerSecond, TransmitBytesPerSecond) / link : null;
}

[GenerateSerializer, Immutable, Alias("kyros.GpuSample")]
public sealed record GpuSample(
    [property: Id(0)] int Index,
    [property: Id(1)] string Name,
    [property: Id(2)] double? UtilizationPercent,
    [property: Id(3)] long MemoryUsedBytes,
    [property: Id(4)] long MemoryTotalBytes,
    [property: Id(5)] double? TemperatureCelsius = null,
    [property: Id(6)] double? PowerWatts = null)
{
    public double MemoryPercent => MemoryTotalBytes == 0 ? 0 : 100.0 * MemoryUsedBytes / MemoryTotalBytes;
}
