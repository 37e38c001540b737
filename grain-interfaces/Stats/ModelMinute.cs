namespace Kyros.Perf.Stats;

/// <summary>One minute of a model (every instance merged): what trend and change detection read.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelMinute")]
public sealed record ModelMinute(
    [property: Id(0)] DateTimeOffset Start,
    [property: Id(1)] long Count,
    [property: Id(2)] long Successes,
    [property: Id(3)] long Timeouts,
    [property: Id(4)] double? LatencyP50,
    [property: Id(5)] double? LatencyP99,
    [property: Id(6)] double QualitySum,
    [property: Id(7)] long QualityCount,
    [property: Id(8)] double CostTotal);
