using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>
/// Keeps this silo's <see cref="ModelCatalog"/> on the cluster's version: once the silo is active it waits (up to
/// <see cref="FirstLoadTimeout"/>) for the catalog grain's catalog before the silo serves, then keeps a call waiting on the
/// grain for the next version (<see cref="IModelCatalogGrain.WaitForNewerAsync"/>), which is swapped in whole. After a
/// failure it asks again every <see cref="ModelCatalogOptions.SyncInterval"/>. Waiting runs on real time: a test's clock
/// must not hold back a change.
/// </summary>
public sealed class CatalogSync(IGrainFactory grains, ModelCatalog catalog, IOptions<ModelCatalogOptions> options, ILogger<CatalogSync> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>How long start-up waits for the stored catalog before serving the configured one (a store that does not answer).</summary>
    public static readonly TimeSpan FirstLoadTimeout = TimeSpan.FromSeconds(15);

    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(CatalogSync), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>Asks once for a newer catalog and takes it; true when it changed this silo's copy.</summary>
    public async Task<bool> PullAsync() =>
        await grains.GetGrain<IModelCatalogGrain>(0).WaitForNewerAsync(catalog.Current.Version, TimeSpan.Zero) is { } newer && catalog.Apply(newer);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + FirstLoadTimeout;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PullAsync();
                break;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow > deadline)
                {
                    logger.LogWarning(exception, "The cluster's catalog could not be read within {Timeout}; serving the configured catalog until it can", FirstLoadTimeout);
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)), cancellationToken);
            }
        }
        _ = KeepInSyncAsync(_stopping.Token);
    }

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    /// <summary>How long one waiting call is held by the grain before it is asked again.</summary>
    public static readonly TimeSpan WaitSpan = TimeSpan.FromSeconds(10);

    private async Task KeepInSyncAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Held by the grain until a change is stored: the change arrives in the time of one message.
                if (await grains.GetGrain<IModelCatalogGrain>(0).WaitForNewerAsync(catalog.Current.Version, WaitSpan).WaitAsync(stopping) is { } newer
                    && catalog.Apply(newer))
                    logger.LogDebug("Catalog now at version {Version}", catalog.Current.Version);
                failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The last version stays in use; say so once per outage, and ask again after the sync interval.
                if (failures++ == 0) logger.LogWarning(exception, "The cluster's catalog could not be read; version {Version} stays in use", catalog.Current.Version);
                try
                {
                    await Task.Delay(options.Value.SyncInterval, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
