using Kyros.Perf.Catalog;
using Orleans.Concurrency;

namespace Kyros.Perf;

[StatelessWorker]
public sealed class ModelCatalogGrain(ModelCatalog catalog) : Grain, IModelCatalogGrain
{
    public Task<IReadOnlyList<ModelDescriptor>> GetModelsAsync() => Task.FromResult(catalog.Models);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
