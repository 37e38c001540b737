using Orleans.Concurrency;

namespace Kyros.Perf.Catalog;

/// <summary>The model catalog as this silo's configuration gives it.</summary>
[Alias("kyros.IModelCatalogGrain")]
public interface IModelCatalogGrain : IGrainWithIntegerKey
{
    [Alias("models")]
    Task<IReadOnlyList<Catalog.ModelDescriptor>> GetModelsAsync();
}
