using Kyros.Perf.Resources;

namespace Kyros.Perf.Routing;

/// <summary>
/// How one silo's router sees a model now: whether it may be chosen, where it stands with its rate limits this calendar
/// minute, and the live statistics behind its figures.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelRoutingState")]
public sealed record ModelRoutingState(
    [property: Id(0)] string Model,
    [property: Id(1)] ModelHealth Health,
    /// <summary>Why it is cooling down or probed; null while healthy.</summary>
    [property: Id(2)] string? Reason,
    /// <summary>When its cooldown ends (then it is probed); null unless cooling down.</summary>
    [property: Id(3)] DateTimeOffset? CoolingUntil,
    /// <summary>Requests this silo reserved this calendar minute; null for a model without limits (nothing is counted).</summary>
    [property: Id(4)] long? RequestsThisMinute,
    /// <summary>The catalog's limit; null for none.</summary>
    [property: Id(5)] int? RequestsPerMinute,
    [property: Id(6)] long? TokensThisMinute,
    [property: Id(7)] long? TokensPerMinute,
    /// <summary>Requests in the model's last 5 minutes of published statistics (0 when it has none).</summary>
    [property: Id(8)] long Samples,
    /// <summary>How long ago those statistics were computed; null when there are none.</summary>
    [property: Id(9)] double? StatsAgeSeconds,
    /// <summary>The lowest alert level among its hosts (none when it names no hosts).</summary>
    [property: Id(10)] AlertLevel HostAlert,
    /// <summary>The lease behind the limits; null for a model without limits.</summary>
    [property: Id(11)] RateLimitState? RateLimit = null);

/// <summary>How a silo holds a model's limits: spending leases the cluster granted, or an even share while the lease grain is unheard.</summary>
public enum RateLimitMode
{
    Lease,
    Share,
}

/// <summary>Where one silo stands with a model's limits this calendar minute. Request and token figures are null for a limit the model does not have.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RateLimitState")]
public sealed record RateLimitState(
    [property: Id(0)] RateLimitMode Mode,
    /// <summary>What this silo reserved this minute.</summary>
    [property: Id(1)] long SiloRequests,
    [property: Id(2)] long SiloTokens,
    /// <summary>What this silo may reserve this minute: its lease, or its share while on one.</summary>
    [property: Id(3)] long? LeasedRequests,
    [property: Id(4)] long? LeasedTokens,
    /// <summary>What the whole cluster holds of the minute, as of this silo's last grant: an upper bound on what it admits.</summary>
    [property: Id(5)] long? ClusterRequests,
    [property: Id(6)] long? ClusterTokens,
    /// <summary>The silos a share is taken among.</summary>
    [property: Id(7)] int Silos,
    /// <summary>Seconds since the lease grain last answered; null when it never has.</summary>
    [property: Id(8)] double? LeaseAgeSeconds);

/// <summary>A silo's router: the age of its snapshot, and each catalog model's state.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RouterState")]
public sealed record RouterState(
    [property: Id(0)] string Silo,
    /// <summary>Seconds since the snapshot was pulled; -1 before the first pull.</summary>
    [property: Id(1)] double SnapshotAgeSeconds,
    [property: Id(2)] IReadOnlyList<ModelRoutingState> Models);
