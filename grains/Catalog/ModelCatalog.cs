using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>The configured catalog, looked up by model id.</summary>
public sealed class ModelCatalog(IOptions<ModelCatalogOptions> options)
{
    private readonly Dictionary<string, int> _indexById = options.Value.Models.Select((m, i) => (m.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);

    public IReadOnlyList<ModelDescriptor> Models { get; } = options.Value.Models.ToArray();

    /// <summary>The largest output any model allows: the bound on max_tokens when the router picks the model.</summary>
    public int MaxOutputTokens { get; } = options.Value.Models.Select(m => m.MaxOutputTokens).DefaultIfEmpty(0).Max();

    public bool Contains(string model) => IndexOf(model) >= 0;

    public ModelDescriptor? Find(string model) => IndexOf(model) is >= 0 and var i ? Models[i] : null;

    /// <summary>The model's place in <see cref="Models"/>, or -1: the router keeps per-model figures in arrays by this index.</summary>
    public int IndexOf(string? model) => model is null ? -1 : _indexById.GetValueOrDefault(model, -1);

    /// <summary>The model, or the error every surface shows for a model outside the catalog.</summary>
    public ModelDescriptor EnsureKnown(string model, string field = "model") => Find(model) ??
        throw new ArgumentException($"{field} '{model}' is not in the model catalog ({Listed()}).", field);

    /// <summary>The catalog's ids for an error: all of a small catalog, the first few of a large one (ten thousand would make a 100 KB error).</summary>
    private string Listed() => Models.Count <= ListedInErrors
        ? string.Join(", ", Models.Select(m => m.Id))
        : $"{string.Join(", ", Models.Take(ListedInErrors).Select(m => m.Id))} and {Models.Count - ListedInErrors} more; GET /v1/models lists them";

    private const int ListedInErrors = 20;
}
