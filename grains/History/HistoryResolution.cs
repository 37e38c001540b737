using Kyros.Perf.Stats;

namespace Kyros.Perf.History;

public enum HistoryResolution
{
    Minute = 60,
    Hour = 3600,
}

/// <summary>One model's aggregate over one minute or hour starting at <see cref="BucketStart"/>.</summary>
public sealed record HistoryRow(string Model, HistoryResolution Resolution, DateTimeOffset BucketStart, MetricsAggregate Aggregate);
