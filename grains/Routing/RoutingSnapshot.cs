using Kyros.Perf.Common;
using Kyros.Perf.Catalog;
using Kyros.Perf.Resources;
using Kyros.Perf.Tuning;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Routing;

/// <summary>
/// This silo's view of every model's routing statistics, pulled from the <see cref="IRoutingStatsGrain"/> table every
/// <see cref="RoutingOptions.SnapshotInterval"/>, with the hosts' active alerts from the alert log and what applied tuning
/// sets. Decisions read it and make no grain calls of their own.
/// </summary>
public sealed class RoutingSnapshot(
    IGrainFactory grains, ModelCatalog catalog, ModelHealthBook health, IOptions<RoutingOptions> options, TimeProvider time, ILogger<RoutingSnapshot> logger)
    : BackgroundService
{
    private volatile Table _table = Table.Build(catalog.Current, [], DateTimeOffset.MinValue);
    private volatile IReadOnlyDictionary<string, AlertLevel> _hostAlerts = new Dictionary<string, AlertLevel>();
    private volatile TunedView _tuning = TunedView.Build(catalog.Current, TuningOverrides.None);

    /// <summary>What applied tuning sets: the adaptive base weights, penalties and timeouts.</summary>
    public TuningOverrides Tuning => _tuning.Overrides;

    /// <summary>The tuning penalty of each model of <paramref name="view"/>, by its index (0: none).</summary>
    public double[] PenaltiesFor(CatalogView view)
    {
        var tuning = _tuning;
        if (ReferenceEquals(tuning.View, view)) return tuning.Penalties;
        // The catalog changed since: the same overrides, indexed for this version.
        tuning = TunedView.Build(view, tuning.Overrides);
        if (ReferenceEquals(view, catalog.Current)) _tuning = tuning;
        return tuning.Penalties;
    }

    /// <summary>The timeout in force for a model: tuned, or the catalog's.</summary>
    public double TimeoutSecondsOf(ModelDescriptor model) => _tuning.Overrides.TimeoutSeconds.GetValueOrDefault(model.Id, model.TimeoutSeconds);

    /// <summary>Replaces what tuning sets (the background loop, and tests that drive a snapshot by hand).</summary>
    public void ApplyTuning(TuningOverrides overrides)
    {
        if (overrides.Version == _tuning.Overrides.Version && overrides.Version != 0) return;
        _tuning = TunedView.Build(catalog.Current, overrides);
    }

    /// <summary>The statistics of each model of <paramref name="view"/>, by its index; null for one with none published.</summary>
    public ModelRoutingStats?[] StatsFor(CatalogView view)
    {
        var table = _table;
        if (ReferenceEquals(table.View, view)) return table.Stats;
        table = Table.Build(view, table.Pulled, table.RefreshedAt);
        if (ReferenceEquals(view, catalog.Current)) _table = table;
        return table.Stats;
    }

    /// <summary>When the table was last pulled; <see cref="DateTimeOffset.MinValue"/> before the first pull.</summary>
    public DateTimeOffset RefreshedAt => _table.RefreshedAt;

    /// <summary>Replaces the table (the background loop, and tests that drive a snapshot by hand).</summary>
    public void Apply(IEnumerable<ModelRoutingStats> stats)
    {
        var now = time.GetUtcNow();
        var pulled = stats.ToArray();
        var view = catalog.Current;
        foreach (var s in pulled)
            if (view.Contains(s.Model)) health.Observe(s, now);
        _table = Table.Build(view, pulled, now);
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

    /// <summary>Pulls the statistics, the hosts' alerts and the tuning overrides side by side: one that fails holds back none of the others.</summary>
    public async Task RefreshAsync()
    {
        var parts = new[] { PullStatisticsAsync(), PullHostAlertsAsync(), PullTuningAsync() };
        try
        {
            await Task.WhenAll(parts);
        }
        catch
        {
            throw new AggregateException(parts.Where(p => p.IsFaulted).SelectMany(p => p.Exception!.InnerExceptions));
        }
    }

    private async Task PullStatisticsAsync() => Apply(await grains.GetGrain<IRoutingStatsGrain>(0).GetAllAsync());

    private async Task PullHostAlertsAsync() =>
        ApplyHostAlerts((await grains.GetGrain<IAlertLogGrain>(0).QueryAsync(new AlertQuery(ActiveOnly: true, MinimumLevel: AlertLevel.Warning))).Active);

    // Asking every interval also keeps the tuner active: when its silo dies, the next pull activates it on a survivor.
    private async Task PullTuningAsync() => ApplyTuning(await grains.GetGrain<ITunerGrain>(0).GetOverridesAsync());

    // Early in start-up the cluster may not answer yet; decisions use the last table (or priors).
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => PeriodicWork.RunAsync(options.Value.SnapshotInterval, time, RefreshAsync,
        exception => logger.LogDebug(exception, "Routing snapshot refresh failed"), stoppingToken);

    /// <summary>The statistics as pulled, and indexed for one version of the catalog (a model outside it is not routed to).</summary>
    private sealed record Table(CatalogView View, IReadOnlyList<ModelRoutingStats> Pulled, ModelRoutingStats?[] Stats, DateTimeOffset RefreshedAt)
    {
        public static Table Build(CatalogView view, IReadOnlyList<ModelRoutingStats> pulled, DateTimeOffset refreshedAt)
        {
            var stats = new ModelRoutingStats?[view.Models.Count];
            foreach (var s in pulled)
                if (view.IndexOf(s.Model) is var index and >= 0) stats[index] = s;
            return new Table(view, pulled, stats, refreshedAt);
        }
    }

    private sealed record TunedView(CatalogView View, TuningOverrides Overrides, double[] Penalties)
    {
        public static TunedView Build(CatalogView view, TuningOverrides overrides)
        {
            var penalties = new double[view.Models.Count];
            foreach (var (model, penalty) in overrides.Penalties)
                if (view.IndexOf(model) is var index and >= 0) penalties[index] = Math.Clamp(penalty, 0, 1);
            return new TunedView(view, overrides, penalties);
        }
    }
}
