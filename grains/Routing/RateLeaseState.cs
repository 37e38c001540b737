namespace Kyros.Perf.Routing;

/// <summary>The rate-lease grain's state: the leases held unspent, and what was admitted in the last minute.</summary>
[GenerateSerializer, Alias("kyros.RateLeaseState")]
public sealed class RateLeaseState
{
    [Id(0)] public List<RateLeaseHolding> Holdings { get; set; } = [];
    [Id(1)] public List<RateLeaseAdmitted> Admitted { get; set; } = [];
}

/// <summary>What one silo holds unspent of one model's limits, and when it last said so.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RateLeaseHolding")]
public sealed record RateLeaseHolding(
    [property: Id(0)] string Model,
    [property: Id(1)] string Silo,
    [property: Id(2)] long Requests,
    [property: Id(3)] long Tokens,
    [property: Id(4)] DateTimeOffset HeardAt);

/// <summary>What the cluster admitted of one model in one second (Unix seconds).</summary>
[GenerateSerializer, Immutable, Alias("kyros.RateLeaseAdmitted")]
public sealed record RateLeaseAdmitted(
    [property: Id(0)] string Model,
    [property: Id(1)] long Second,
    [property: Id(2)] long Requests,
    [property: Id(3)] long Tokens);
