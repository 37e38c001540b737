using Kyros.Perf.Stats;

namespace Kyros.Perf.History;

public enum HistoryResolution
{
    Minute = 60,
    Hour = 3600,
}

/// <summary>
/// One model's aggregate over one minute or hour starting at <see cref="BucketStart"/>, held as the bytes stored: a write
/// queued behind others costs those, not its sketches' buckets.
/// </summary>
public sealed class HistoryRow(string model, HistoryResolution resolution, DateTimeOffset bucketStart, MetricsAggregate aggregate)
{
    public string Model { get; } = model;
    public HistoryResolution Resolution { get; } = resolution;
    public DateTimeOffset BucketStart { get; } = bucketStart;
    public long Count { get; } = aggregate.Count;
    public byte[] Data { get; } = aggregate.ToBytes();
    public MetricsAggregate Aggregate => MetricsAggregate.FromBytes(Data);
}
