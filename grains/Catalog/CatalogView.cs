namespace Kyros.Perf.Catalog;

/// <summary>
/// One version of the catalog, immutable: a decision takes the view once and sees the whole of one version, never half
/// of a change. Models are indexed by position, which the router's per-model arrays follow.
/// </summary>
public sealed class CatalogView
{
    private readonly Dictionary<string, int> _indexById;
    private readonly Dictionary<string, RemovedModel> _removed;
    private readonly long[] _revisions;

    /// <param name="previous">
    /// The version this replaces: a model at the same revision keeps its descriptor object, so what is made per model
    /// (a provider's client) is made again only for the models that changed.
    /// </param>
    public CatalogView(CatalogSnapshot snapshot, CatalogView? previous = null)
    {
        Version = snapshot.Version;
        Models = [.. snapshot.Models.Select(e => previous?.Entry(e.Model.Id) is { } kept && kept.Revision == e.Revision ? kept.Model : e.Model)];
        _revisions = [.. snapshot.Models.Select(e => e.Revision)];
        _indexById = new Dictionary<string, int>(Models.Count, StringComparer.Ordinal);
        for (var i = 0; i < Models.Count; i++) _indexById[Models[i].Id] = i;
        _removed = snapshot.Removed.ToDictionary(r => r.Id, StringComparer.Ordinal);
        MaxOutputTokens = Models.Select(m => m.MaxOutputTokens).DefaultIfEmpty(0).Max();
    }

    /// <summary>The configuration's models as version 0: what a silo uses until it has heard from the catalog grain.</summary>
    public static CatalogView Seed(IEnumerable<ModelDescriptor> models) =>
        new(new CatalogSnapshot(0, [.. models.Select(m => new CatalogEntry(m, 0))], []));

    public long Version { get; }

    /// <summary>This view as the catalog grain stores it: what a silo hands back when the store lost the catalog.</summary>
    public CatalogSnapshot ToSnapshot() => new(Version, [.. Models.Select((m, i) => new CatalogEntry(m, _revisions[i]))], [.. _removed.Values]);

    public IReadOnlyList<ModelDescriptor> Models { get; }

    /// <summary>The largest output any model allows: the bound on max_tokens when the router picks the model.</summary>
    public int MaxOutputTokens { get; }

    /// <summary>The model's place in <see cref="Models"/>, or -1.</summary>
    public int IndexOf(string? model) => model is null ? -1 : _indexById.GetValueOrDefault(model, -1);

    public bool Contains(string? model) => IndexOf(model) >= 0;

    public ModelDescriptor? Find(string? model) => IndexOf(model) is >= 0 and var i ? Models[i] : null;

    public CatalogEntry? Entry(string? model) => IndexOf(model) is >= 0 and var i ? new CatalogEntry(Models[i], _revisions[i]) : null;

    public RemovedModel? RemovedOf(string? model) => model is not null && _removed.TryGetValue(model, out var removed) ? removed : null;
}
