using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>Keeps this silo's <see cref="ModelCatalog"/> on the catalog grain's version (<see cref="VersionFollower"/>).</summary>
public sealed class CatalogSync : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly VersionFollower _follower;

    public CatalogSync(IGrainFactory grains, ModelCatalog catalog, IOptions<ModelCatalogOptions> options, ILogger<CatalogSync> logger) =>
        _follower = new VersionFollower("catalog", "serving the configured catalog",
            async wait => await grains.GetGrain<IModelCatalogGrain>(0).WaitForNewerAsync(catalog.Current.Version, wait) is { } newer && catalog.Apply(newer),
            () => catalog.Current.Version, () => options.Value.SyncInterval, logger);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(CatalogSync), ServiceLifecycleStage.Active, ct => _follower.StartAsync(ct, _stopping.Token), StopAsync);

    /// <summary>Asks once for a newer catalog and takes it; true when it changed this silo's copy.</summary>
    public Task<bool> PullAsync() => _follower.PullAsync();

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }
}
