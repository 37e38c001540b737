using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>
/// Keeps this silo's <see cref="ModelCatalog"/> on the cluster's version: once the silo is active it waits (up to
/// <see cref="FirstLoadTimeout"/>) for the catalog grain's catalog before the silo serves, then asks every
/// <see cref="ModelCatalogOptions.SyncInterval"/> for a newer version, which is swapped in whole. The asking runs on real
/// time: a test's clock must not hold back a change.
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
        await grains.GetGrain<IModelCatalogGrain>(0).GetIfNewerAsync(catalog.Current.Version) is { } newer && catalog.Apply(newer);

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

    private async Task KeepInSyncAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Value.SyncInterval);
        var failures = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                try
                {
                    if (await PullAsync()) logger.LogDebug("Catalog now at version {Version}", catalog.Current.Version);
                    failures = 0;
                }
                catch (Exception exception) when (!stopping.IsCancellationRequested)
                {
                    // The last version stays in use; say so once per outage, not four times a second.
                    if (failures++ == 0) logger.LogWarning(exception, "The cluster's catalog could not be read; version {Version} stays in use", catalog.Current.Version);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
