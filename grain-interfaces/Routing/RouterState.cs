using Kyros.Perf.Resources;

namespace Kyros.Perf.Routing;

/// <summary>
/// How one silo's router sees a model now: whether it may be chosen, what the cluster has used of its rate limits over
/// the last minute (this silo's use now, the others' at the last exchange), and the live statistics behind its figures.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelRoutingState")]
public sealed record ModelRoutingState(
    [property: Id(0)] string Model,
    [property: Id(1)] ModelHealth Health,
    /// <summary>Why it is cooling down or probed; null while healthy.</summary>
    [property: Id(2)] string? Reason,
    /// <summary>When its cooldown ends (then it is probed); null unless cooling down.</summary>
    [property: Id(3)] DateTimeOffset? CoolingUntil,
    /// <summary>Requests the cluster reserved over the last minute; null for a model without limits (nothing is counted).</summary>
    [property: Id(4)] int? RequestsThisMinute,
    /// <summary>The catalog's limit; null for none.</summary>
    [property: Id(5)] int? RequestsPerMinute,
    [property: Id(6)] long? TokensThisMinute,
    [property: Id(7)] long? TokensPerMinute,
    /// <summary>Requests in the model's last 5 minutes of published statistics (0 when it has none).</summary>
    [property: Id(8)] long Samples,
    /// <summary>How long ago those statistics were computed; null when there are none.</summary>
    [property: Id(9)] double? StatsAgeSeconds,
    /// <summary>The lowest alert level among its hosts (none when it names no hosts).</summary>
    [property: Id(10)] AlertLevel HostAlert);

/// <summary>A silo's router: the age of its snapshot, and each catalog model's state.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RouterState")]
public sealed record RouterState(
    [property: Id(0)] string Silo,
    /// <summary>Seconds since the snapshot was pulled; -1 before the first pull.</summary>
    [property: Id(1)] double SnapshotAgeSeconds,
    [property: Id(2)] IReadOnlyList<ModelRoutingState> Models);
