using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>
/// This silo's copy of the cluster's catalog: the configured models until <see cref="CatalogSync"/> has the catalog
/// grain's, then each newer version as it comes, swapped whole. Lookups read <see cref="Current"/> once; code that
/// looks up more than once for one request (the router) takes the view itself.
/// </summary>
public sealed class ModelCatalog(IOptions<ModelCatalogOptions> options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private volatile CatalogView _view = CatalogView.Seed(options.Value.Models);

    public CatalogView Current => _view;

    /// <summary>The configured models: what seeds a fresh cluster's catalog.</summary>
    public IReadOnlyList<ModelDescriptor> Configured => options.Value.Models;

    public IReadOnlyList<ModelDescriptor> Models => _view.Models;

    public int MaxOutputTokens => _view.MaxOutputTokens;

    public bool Contains(string model) => _view.Contains(model);

    public ModelDescriptor? Find(string model) => _view.Find(model);

    /// <summary>Takes a newer version of the catalog; an older or equal one (a slow answer) changes nothing. True when taken.</summary>
    public bool Apply(CatalogSnapshot snapshot)
    {
        while (true)
        {
            var current = _view;
            if (snapshot.Version <= current.Version) return false;
            if (Interlocked.CompareExchange(ref _view, new CatalogView(snapshot, current), current) == current) return true;
        }
    }

    /// <summary>The model, or the error every surface shows for a model outside the catalog.</summary>
    public ModelDescriptor EnsureKnown(string model, string field = "model") => _view.Find(model) ??
        throw new ArgumentException($"{field} '{model}' is not in the model catalog ({Listed(_view)}).", field);

    /// <summary>A model whose statistics and history can be read: in the catalog, or removed from it.</summary>
    public bool IsReadable(string model) => _view is var view && (view.Contains(model) || view.RemovedOf(model) is not null);

    public void EnsureReadable(string model, string field = "model")
    {
        if (!IsReadable(model)) EnsureKnown(model, field);
    }

    /// <summary>A model whose records are taken: in the catalog, or removed less than its grace period ago (<see cref="RemovedModel.RecordsUntil"/>).</summary>
    public bool IsRecordable(string model)
    {
        var view = _view;
        return view.Contains(model) || view.RemovedOf(model) is { } removed && removed.TakesRecordsAt(_time.GetUtcNow());
    }

    /// <summary>Refuses a record for a model outside the catalog (<see cref="ArgumentException"/>) or removed past its grace (<see cref="ModelRemovedException"/>).</summary>
    public void EnsureRecordable(string model, string field = "model")
    {
        if (IsRecordable(model)) return;
        if (_view.RemovedOf(model) is { } removed)
            throw new ModelRemovedException($"{field} '{model}' was removed from the catalog at {removed.RemovedAt:u}; records for it are no longer taken.");
        EnsureKnown(model, field);
    }

    /// <summary>The catalog's ids for an error: all of a small catalog, the first few of a large one (ten thousand would make a 100 KB error).</summary>
    private static string Listed(CatalogView view) => view.Models.Count <= ListedInErrors
        ? string.Join(", ", view.Models.Select(m => m.Id))
        : $"{string.Join(", ", view.Models.Take(ListedInErrors).Select(m => m.Id))} and {view.Models.Count - ListedInErrors} more; GET /v1/models lists them";

    private const int ListedInErrors = 20;
}
