using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>The configured catalog, looked up by model id.</summary>
public sealed class ModelCatalog(IOptions<ModelCatalogOptions> options)
{
    private readonly Dictionary<string, ModelDescriptor> _byId = options.Value.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);
    private readonly Dictionary<string, int> _indexById = options.Value.Models.Select((m, i) => (m.Id, i)).ToDictionary(p => p.Id, p => p.i, StringComparer.Ordinal);

    public IReadOnlyList<ModelDescriptor> Models { get; } = options.Value.Models.ToArray();

    /// <summary>The largest output any model allows: the bound on max_tokens when the router picks the model.</summary>
    public int MaxOutputTokens { get; } = options.Value.Models.Select(m => m.MaxOutputTokens).DefaultIfEmpty(0).Max();

    public bool Contains(string model) => _byId.ContainsKey(model);

    public ModelDescriptor? Find(string model) => _byId.GetValueOrDefault(model);

    /// <summary>The model's place in <see cref="Models"/>, or -1: the router keeps per-model figures in arrays by this index.</summary>
    public int IndexOf(string? model) => model is null ? -1 : _indexById.GetValueOrDefault(model, -1);

    /// <summary>Throws the error every surface shows for a model outside the catalog.</summary>
    public void EnsureKnown(string model, string field = "model")
    {
        if (!Contains(model))
            throw new ArgumentException($"{field} '{model}' is not in the model catalog ({string.Join(", ", _byId.Keys)}).", field);
    }
}
