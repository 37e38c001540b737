using Kyros.Perf.Catalog;

namespace Kyros.Perf.Client;

/// <summary>
/// The cluster's catalog: read it, add, replace and remove models at run time, and the change history. A model's
/// <see cref="CatalogEntry.Revision"/> is what an edit may be made against: when the model changed since, the edit
/// throws <see cref="CatalogRevisionException"/> and changes nothing. Edits are never sent twice.
/// </summary>
public sealed partial class KyrosPerfClient
{
    private IModelCatalogGrain Catalog => Cluster.GetGrain<IModelCatalogGrain>(0);

    /// <summary>Who made an edit, as the change history shows it.</summary>
    private static readonly string Actor = $"sdk {Environment.UserName}@{Environment.MachineName}";

    /// <summary>The models in the catalog now.</summary>
    public Task<IReadOnlyList<ModelDescriptor>> GetModelsAsync() => Retried(() => Catalog.GetModelsAsync());

    /// <summary>One model at its revision; null when the catalog does not hold it.</summary>
    public Task<CatalogEntry?> GetModelAsync(string id)
    {
        RequireModel(id, "id");
        return Retried(() => Catalog.GetModelAsync(id));
    }

    /// <summary>Adds a model; <see cref="CatalogModelExistsException"/> when its id is taken. Every silo routes to it within a second.</summary>
    public async Task<CatalogEntry> AddModelAsync(ModelDescriptor model)
    {
        ModelDescriptorValidator.Validate(model);
        var edit = await Call(() => Catalog.AddAsync(model, Actor));
        _catalog = null;
        return edit.Entry!;
    }

    /// <summary>Replaces a model (found by its id) whole; against <paramref name="expectedRevision"/> when given.</summary>
    public async Task<CatalogEntry> UpdateModelAsync(ModelDescriptor model, long? expectedRevision = null)
    {
        ModelDescriptorValidator.Validate(model);
        return (await Call(() => Catalog.ReplaceAsync(model, expectedRevision, Actor))).Entry!;
    }

    /// <summary>
    /// Removes a model: routing stops choosing it at once, records for it are taken for the grace period
    /// (<c>Kyros:Catalog:RemovalGrace</c>), its statistics and history stay readable.
    /// </summary>
    public async Task<CatalogChange> RemoveModelAsync(string id, long? expectedRevision = null)
    {
        RequireModel(id, "id");
        var edit = await Call(() => Catalog.RemoveAsync(id, expectedRevision, Actor));
        _catalog = null;
        return edit.Change;
    }

    /// <summary>The newest changes of the catalog first (at most <paramref name="limit"/>, 1-10,000).</summary>
    public Task<IReadOnlyList<CatalogChange>> GetModelChangesAsync(int limit = 100)
    {
        if (limit is < 1 or > 10_000) throw new ArgumentException($"limit must be within 1..10000; got {limit}.", "limit");
        return Retried(() => Catalog.GetChangesAsync(limit));
    }
}
