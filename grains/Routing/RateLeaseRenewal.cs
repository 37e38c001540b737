using Kyros.Perf.Common;
using Kyros.Perf.Catalog;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Routing;

/// <summary>
/// Every snapshot interval, asks the <see cref="IRateLeaseGrain"/> for this silo's leases (<see cref="RateLimiter.Asks"/>)
/// and applies the grants. A silo with no limited model in its catalog never asks.
/// </summary>
public sealed class RateLeaseRenewal(
    IGrainFactory grains, ModelCatalog catalog, RateLimiter limits, IOptions<RoutingOptions> options, TimeProvider time,
    ILocalSiloDetails silo, IClusterMembershipService membership, ILogger<RateLeaseRenewal> logger) : BackgroundService
{
    private readonly SemaphoreSlim _one = new(1, 1);
    // The limited models of the catalog version last seen: the catalog changes at run time.
    private (CatalogView View, ModelDescriptor[] Limited) _limited = (null!, []);

    private ModelDescriptor[] Limited()
    {
        var view = catalog.Current;
        if (!ReferenceEquals(_limited.View, view)) _limited = (view, [.. view.Models.Where(m => m.RequestsPerMinute is not null || m.TokensPerMinute is not null)]);
        return _limited.Limited;
    }

    /// <summary>A lease keeps this much of the recent demand in hand: four asks, so one that is late or lost costs nothing.</summary>
    private TimeSpan Horizon => options.Value.SnapshotInterval * 4;

    /// <summary>One exchange with the lease grain; calls never overlap, so what a silo says it holds always includes its last grant.</summary>
    public async Task RenewAsync()
    {
        await _one.WaitAsync();
        try
        {
            var limited = Limited();
            // A catalog without limits asks for nothing; one that gains a limit at run time starts asking.
            if (limited.Length == 0) return;
            var asks = limits.Asks(limited, time.GetUtcNow(), Horizon);
            var grants = await grains.GetGrain<IRateLeaseGrain>(0).LeaseAsync(silo.SiloAddress.ToString(), asks);
            limits.Apply(grants, time.GetUtcNow(), ActiveSilos());
        }
        catch
        {
            limits.Unheard(ActiveSilos());
            throw;
        }
        finally
        {
            _one.Release();
        }
    }

    private int ActiveSilos() => membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        limits.AwaitLeases(time.GetUtcNow(), ActiveSilos());
        // Until it answers again this silo spends what it holds, then keeps to its share (RateLimiter.LeaseStaleAfter).
        await PeriodicWork.RunAsync(options.Value.SnapshotInterval, time, RenewAsync,
            exception => logger.LogDebug(exception, "Rate lease renewal failed"), stoppingToken);
    }
}
