using Orleans.Concurrency;

namespace Kyros.Perf.Catalog;

/// <summary>
/// The cluster's model catalog (one activation, key 0; grain state in Redis in a cluster). Configuration seeds it on the
/// cluster's first start; after that the stored catalog wins. Every silo waits for newer versions (<see cref="WaitForNewerAsync"/>).
/// Edits name who made them (<c>actor</c>) and may carry the revision they were made against (<c>expectedRevision</c>,
/// HTTP's <c>If-Match</c>): a stale one throws <see cref="CatalogRevisionException"/> and changes nothing.
/// </summary>
[Alias("kyros.IModelCatalogGrain")]
public interface IModelCatalogGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The catalog once its version is newer than <paramref name="version"/>: at once if it is already, else as soon as a
    /// change is stored, or null after <paramref name="maxWait"/> (at most 20 s; zero answers at once). Every silo keeps one
    /// of these waiting, so a change reaches it in the time of one message.
    /// </summary>
    [AlwaysInterleave, Alias("wait")]
    Task<CatalogSnapshot?> WaitForNewerAsync(long version, TimeSpan maxWait);

    [AlwaysInterleave, Alias("models")]
    Task<IReadOnlyList<ModelDescriptor>> GetModelsAsync();

    /// <summary>One model at its revision; null when the catalog does not hold it.</summary>
    [AlwaysInterleave, Alias("model")]
    Task<CatalogEntry?> GetModelAsync(string id);

    [Alias("add")]
    Task<CatalogEdit> AddAsync(ModelDescriptor model, string actor);

    [Alias("replace")]
    Task<CatalogEdit> ReplaceAsync(ModelDescriptor model, long? expectedRevision, string actor);

    [Alias("remove")]
    Task<CatalogEdit> RemoveAsync(string id, long? expectedRevision, string actor);

    /// <summary>Replaces the whole catalog with <paramref name="models"/> (a silo's configuration): the way to force configuration back.</summary>
    [Alias("seed")]
    Task<CatalogEdit> SeedAsync(IReadOnlyList<ModelDescriptor> models, string actor);

    /// <summary>The newest changes first, at most <paramref name="limit"/>.</summary>
    [AlwaysInterleave, Alias("changes")]
    Task<IReadOnlyList<CatalogChange>> GetChangesAsync(int limit);

    /// <summary>Deletes the live state of removed models that no window reaches any more (its timer does this hourly); the ids purged.</summary>
    [Alias("purge")]
    Task<IReadOnlyList<string>> PurgeRemovedAsync();
}
