namespace Kyros.Perf.Routing;

/// <summary>How the router weighs latency, quality and cost.</summary>
[GenerateSerializer]
public enum RoutingStrategy
{
    LowestLatency,
    HighestQuality,
    CostEffective,
    Balanced,
    Adaptive,
}

/// <summary>The weight of each part of a candidate's score; they sum to 1.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RoutingWeights")]
public readonly record struct RoutingWeights(
    [property: Id(0)] double Latency,
    [property: Id(1)] double Quality,
    [property: Id(2)] double Cost)
{
    /// <summary>The fixed strategies' weights (adaptive derives its own per request).</summary>
    public static RoutingWeights For(RoutingStrategy strategy) => strategy switch
    {
        RoutingStrategy.LowestLatency => new(0.70, 0.20, 0.10),
        RoutingStrategy.HighestQuality => new(0.10, 0.80, 0.10),
        RoutingStrategy.CostEffective => new(0.20, 0.30, 0.50),
        _ => new(0.33, 0.33, 0.34),
    };

    public RoutingWeights Normalized()
    {
        var sum = Latency + Quality + Cost;
        return new RoutingWeights(Latency / sum, Quality / sum, Cost / sum);
    }
}

public static class RoutingStrategies
{
    public static readonly IReadOnlyList<string> Names = ["lowest_latency", "highest_quality", "cost_effective", "balanced", "adaptive"];

    public static RoutingStrategy Parse(string? text, string field = "strategy") => text switch
    {
        null or "" or "balanced" => RoutingStrategy.Balanced,
        "lowest_latency" => RoutingStrategy.LowestLatency,
        "highest_quality" => RoutingStrategy.HighestQuality,
        "cost_effective" => RoutingStrategy.CostEffective,
        "adaptive" => RoutingStrategy.Adaptive,
        _ => throw new ArgumentException($"{field} '{text}' is not a strategy: use one of {string.Join(", ", Names)}.", field),
    };

    public static string Name(RoutingStrategy strategy) => Names[(int)strategy];
}
