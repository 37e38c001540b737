using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>The configured catalog, looked up by model id.</summary>
public sealed class ModelCatalog(IOptions<ModelCatalogOptions> options)
{
    private readonly Dictionary<string, ModelDescriptor> _byId = options.Value.Models.ToDictionary(m => m.Id, StringComparer.Ordinal);

    public IReadOnlyList<ModelDescriptor> Models { get; } = options.Value.Models.ToArray();

    public bool Contains(string model) => _byId.ContainsKey(model);

    public ModelDescriptor? Find(string model) => _byId.GetValueOrDefault(model);

    /// <summary>Throws the error every surface shows for a model outside the catalog.</summary>
    public void EnsureKnown(string model, string field = "model")
    {
        if (!Contains(model))
            throw new ArgumentException($"{field} '{model}' is not in the model catalog ({string.Join(", ", _byId.Keys)}).", field);
    }
}
