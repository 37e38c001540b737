using Kyros.Perf.Resources;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Routing;

/// <summary>
/// This silo's view of every model's routing statistics, pulled from the <see cref="IRoutingStatsGrain"/> table every
/// <see cref="RoutingOptions.SnapshotInterval"/>, with the hosts' active alerts from the alert log. Decisions read it
/// and make no grain calls of their own.
/// </summary>
public sealed class RoutingSnapshot(
    IGrainFactory grains, ModelHealthBook health, IOptions<RoutingOptions> options, TimeProvider time, ILogger<RoutingSnapshot> logger)
    : BackgroundService
{
    private volatile Table _table = new(new Dictionary<string, ModelRoutingStats>(StringComparer.Ordinal), DateTimeOffset.MinValue);
    private volatile IReadOnlyDictionary<string, AlertLevel> _hostAlerts = new Dictionary<string, AlertLevel>();

    public IReadOnlyDictionary<string, ModelRoutingStats> Stats => _table.Stats;

    /// <summary>When the table was last pulled; <see cref="DateTimeOffset.MinValue"/> before the first pull.</summary>
    public DateTimeOffset RefreshedAt => _table.RefreshedAt;

    /// <summary>Replaces the table (the background loop, and tests that drive a snapshot by hand).</summary>
    public void Apply(IEnumerable<ModelRoutingStats> stats)
    {
        var now = time.GetUtcNow();
        var table = stats.ToDictionary(s => s.Model, StringComparer.Ordinal);
        foreach (var s in table.Values) health.Observe(s, now);
        _table = new Table(table, now);
    }

    /// <summary>Replaces the hosts' alert levels: each host's highest active alert.</summary>
    public void ApplyHostAlerts(IEnumerable<ActiveAlert> active) =>
        _hostAlerts = active.GroupBy(a => a.Node).ToDictionary(g => g.Key, g => g.Max(a => a.Level), StringComparer.Ordinal);

    /// <summary>The alert level of the least troubled of these hosts: a model is degraded only when every host that serves it is.</summary>
    public AlertLevel LeastAlertedHost(IReadOnlyList<string> hosts)
    {
        var alerts = _hostAlerts;
        var least = AlertLevel.Emergency;
        foreach (var host in hosts)
            if (alerts.GetValueOrDefault(host) is var level && level < least) least = level;
        return least;
    }

    public async Task RefreshAsync()
    {
        Apply(await grains.GetGrain<IRoutingStatsGrain>(0).GetAllAsync());
        var alerts = await grains.GetGrain<IAlertLogGrain>(0).QueryAsync(new AlertQuery(ActiveOnly: true, MinimumLevel: AlertLevel.Warning));
        ApplyHostAlerts(alerts.Active);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SnapshotInterval, time);
        do
        {
            try
            {
                await RefreshAsync();
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Early in start-up the cluster may not answer yet; decisions use the last table (or priors).
                logger.LogDebug(exception, "Routing snapshot refresh failed");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private sealed record Table(IReadOnlyDictionary<string, ModelRoutingStats> Stats, DateTimeOffset RefreshedAt);
}
