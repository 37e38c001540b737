namespace Kyros.Perf.Catalog;

/// <summary>A catalog model and its revision: the catalog version of its last change, served as its <c>ETag</c>.</summary>
[GenerateSerializer, Immutable, Alias("kyros.CatalogEntry")]
public sealed record CatalogEntry([property: Id(0)] ModelDescriptor Model, [property: Id(1)] long Revision);

/// <summary>
/// A model taken out of the catalog: routing no longer chooses it, its statistics and history stay readable, records for
/// it are taken until the grace period ends, and its live state is deleted once no window can reach it (<see cref="Purged"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.RemovedModel")]
public sealed record RemovedModel(
    [property: Id(0)] string Id,
    [property: Id(1)] DateTimeOffset RemovedAt,
    [property: Id(2)] long Revision,
    /// <summary>The end of the grace period: records for it are taken until then.</summary>
    [property: Id(4)] DateTimeOffset RecordsUntil,
    [property: Id(3)] bool Purged = false)
{
    /// <summary>Whether records for it are still taken at <paramref name="now"/> (its grace period has not ended).</summary>
    public bool TakesRecordsAt(DateTimeOffset now) => now < RecordsUntil;
}

/// <summary>The whole catalog at one version: what every silo's router, gateway and validators use.</summary>
[GenerateSerializer, Immutable, Alias("kyros.CatalogSnapshot")]
public sealed record CatalogSnapshot(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<CatalogEntry> Models,
    [property: Id(2)] IReadOnlyList<RemovedModel> Removed);

public enum CatalogAction
{
    Added,
    Updated,
    Removed,
    /// <summary>The catalog replaced by a silo's configuration (the first start of a cluster, or on request).</summary>
    Seeded,
    /// <summary>A removed model's live state (recent records, checkpoints) deleted once no window reaches it.</summary>
    Purged,
    /// <summary>The catalog taken back from a silo's copy after the store lost it (Redis flushed or replaced).</summary>
    Restored,
}

/// <summary>One change of the catalog: what, to which model, by whom, when, and the version it made.</summary>
[GenerateSerializer, Immutable, Alias("kyros.CatalogChange")]
public sealed record CatalogChange(
    [property: Id(0)] long Version,
    [property: Id(1)] DateTimeOffset Timestamp,
    [property: Id(2)] CatalogAction Action,
    [property: Id(3)] string Model,
    [property: Id(4)] string Actor,
    [property: Id(5)] string Detail);

/// <summary>The result of an edit: the model as it now stands (null once removed) and the change made.</summary>
[GenerateSerializer, Immutable, Alias("kyros.CatalogEdit")]
public sealed record CatalogEdit(
    [property: Id(0)] CatalogEntry? Entry,
    [property: Id(1)] CatalogChange Change);

/// <summary>An edit that names a model the catalog does not hold (HTTP 404 naming <c>id</c>).</summary>
[GenerateSerializer, Alias("kyros.CatalogModelNotFoundException")]
public sealed class CatalogModelNotFoundException(string message) : Exception(message);

/// <summary>An add of a model whose id the catalog holds already (HTTP 409 naming <c>id</c>).</summary>
[GenerateSerializer, Alias("kyros.CatalogModelExistsException")]
public sealed class CatalogModelExistsException(string message) : Exception(message);

/// <summary>An edit made against a revision that is no longer the model's (HTTP 412 naming <c>If-Match</c>).</summary>
[GenerateSerializer, Alias("kyros.CatalogRevisionException")]
public sealed class CatalogRevisionException(string message) : Exception(message);

/// <summary>A record for a model removed from the catalog longer ago than the grace period (HTTP 404 naming the field).</summary>
[GenerateSerializer, Alias("kyros.ModelRemovedException")]
public sealed class ModelRemovedException(string message) : Exception(message);
