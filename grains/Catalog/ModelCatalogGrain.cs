using Kyros.Perf.Catalog;
using Orleans.Concurrency;

namespace Kyros.Perf.Catalog;

[StatelessWorker]
public sealed class ModelCatalogGrain(ModelCatalog catalog) : Grain, IModelCatalogGrain
{
    public Task<IReadOnlyList<ModelDescriptor>> GetModelsAsync() => Task.FromResult(catalog.Models);
}
