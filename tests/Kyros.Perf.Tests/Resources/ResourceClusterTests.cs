using System.Threading.Channels;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Resources;

/// <summary>The resource grains in a two-silo TestingHost cluster on Redis, through the SDK.</summary>
public sealed class ResourceClusterTests(SharedCluster cluster) : IClassFixture<SharedCluster>
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static ResourceSample Sample(string node, DateTimeOffset at, double cpu, int? queue = null) =>
        new() { Node = node, Timestamp = at, CpuPercent = cpu, QueueSize = queue, Group = "edge" };

    [Fact]
    public async Task Each_silo_samples_its_own_host_and_its_host_grain_runs_there()
    {
        foreach (var silo in cluster.Value.Cluster.Silos)
        {
            var summary = await Eventually.UntilAsync(() => cluster.Value.Client.GetNodeSummaryAsync(silo.Name, TimeSpan.FromMinutes(1)), s => s.SampleCount >= 1,
                TimeSpan.FromSeconds(30));
            Assert.Equal(silo.Name, summary.Silo);
            Assert.True(summary.SelfSampled);
            Assert.Contains(summary.Metrics, m => m.Series == "memory" && m.Latest is > 0 and <= 100);
        }
    }

    [Fact]
    public async Task A_host_grain_away_from_its_hosts_silo_refuses_to_sample_and_steps_aside()
    {
        // No silo is named ghost-host: wherever its grain lands, that silo must not report its own machine as ghost-host.
        var grain = cluster.Value.Cluster.Client.GetGrain<INodeResourceGrain>("ghost-host");
        Assert.False(await grain.StartSamplingAsync());
        Assert.False(await grain.StartSamplingAsync());
        var summary = await grain.GetSummaryAsync(TimeSpan.FromMinutes(1));
        Assert.Equal((0, false), (summary.SampleCount, summary.SelfSampled));
        Assert.Contains(summary.Silo, cluster.Value.Cluster.Silos.Select(s => s.Name));
    }

    [Fact]
    public async Task Pushed_samples_raise_escalate_and_resolve_an_alert_that_reaches_the_log_and_a_stream_subscriber()
    {
        var client = cluster.Value.Client;
        var received = Channel.CreateUnbounded<AlertEvent>();
        await using var subscription = await client.SubscribeAlertsAsync(alert => received.Writer.WriteAsync(alert).AsTask());
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        double[] cpu = [50, 88, 90, 97, 98, 40, 40];
        await client.PushSamplesAsync("edge-1", cpu.Select((c, i) => Sample("edge-1", start.AddSeconds(5 * i), c)).ToArray());

        var events = new List<AlertEvent>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (events.Count < 3)
        {
            var alert = await received.Reader.ReadAsync(timeout.Token);
            if (alert.Node == "edge-1" && alert.Kind != AlertEventKind.Notice) events.Add(alert);
        }
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Critical), (AlertEventKind.Escalated, AlertLevel.Emergency), (AlertEventKind.Resolved, AlertLevel.None)],
            events.Select(e => (e.Kind, e.Level)).ToArray());
        Assert.Single(events.Select(e => e.AlertId).Distinct());

        // A host that re-sends events it could not confirm does not double them in the log.
        await cluster.Value.Cluster.Client.GetGrain<IAlertLogGrain>(0).AppendAsync(events);
        var log = await client.GetAlertsAsync(new AlertQuery(Node: "edge-1", MinimumLevel: AlertLevel.Critical));
        Assert.Empty(log.Active);
        Assert.Equal(events.Select(e => e.AlertId + e.Kind).Reverse(), log.Events.Select(e => e.AlertId + e.Kind));
        var summary = await client.GetNodeSummaryAsync("edge-1", Hour);
        Assert.Equal(("edge", 7, false), (summary.Group, summary.SampleCount, summary.SelfSampled));
    }

    [Fact]
    public async Task Cluster_thresholds_apply_to_every_host_and_a_host_override_wins_on_that_host()
    {
        var client = cluster.Value.Client;
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        await client.PushSamplesAsync("edge-2", [Sample("edge-2", start, 10, queue: 0)]);
        await client.SetThresholdsAsync(ResourceMetrics.Queue, new AlertThresholds(10, 20, 30));
        await client.SetThresholdsAsync(ResourceMetrics.Cpu, new AlertThresholds(20, 30, 40), node: "edge-2");

        var thresholds = (await client.GetThresholdsAsync("edge-2")).ToDictionary(t => t.Metric);
        Assert.Equal(("node", 20.0), (thresholds["cpu"].Scope, thresholds["cpu"].Levels.Warning));
        Assert.Equal(("cluster", 10.0), (thresholds["queue"].Scope, thresholds["queue"].Levels.Warning));
        Assert.Equal("default", thresholds["memory"].Scope);
        Assert.Equal(70, (await client.GetThresholdsAsync()).Single(t => t.Metric == "cpu").Levels.Warning);

        await client.PushSamplesAsync("edge-2", [Sample("edge-2", start.AddSeconds(5), 25, queue: 12), Sample("edge-2", start.AddSeconds(10), 25, queue: 12)]);
        var active = (await client.GetAlertsAsync(new AlertQuery(ActiveOnly: true, Node: "edge-2"))).Active;
        Assert.Equal([("cpu", AlertLevel.Warning), ("queue", AlertLevel.Warning)], active.Select(a => (a.Series, a.Level)).Order().ToArray());
    }

    [Fact]
    public async Task A_bad_push_is_refused_naming_the_field_and_changes_nothing()
    {
        var client = cluster.Value.Client;
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        await client.PushSamplesAsync("edge-3", [Sample("edge-3", start, 10)]);

        var bad = await Assert.ThrowsAsync<ArgumentException>(() => client.PushSamplesAsync("edge-3", [Sample("edge-3", start.AddSeconds(5), 10), Sample("edge-3", start.AddSeconds(10), 101)]));
        Assert.Equal("[1].cpu_percent", bad.ParamName);
        var stale = await Assert.ThrowsAsync<ArgumentException>(() => client.PushSamplesAsync("edge-3", [Sample("edge-3", start, 10)]));
        Assert.Equal("timestamp", stale.ParamName);
        var threshold = await Assert.ThrowsAsync<ArgumentException>(() => client.SetThresholdsAsync("memory", new AlertThresholds(90, 80, 95), node: "edge-3"));
        Assert.Equal("critical", threshold.ParamName);

        Assert.Equal(1, (await client.GetNodeSummaryAsync("edge-3", Hour)).SampleCount);
        Assert.Equal("default", (await client.GetThresholdsAsync("edge-3")).Single(t => t.Metric == "memory").Scope);
    }

    [Fact]
    public async Task A_hosts_series_are_thinned_evenly_to_the_points_asked_and_end_with_the_newest_sample()
    {
        var client = cluster.Value.Client;
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        await client.PushSamplesAsync("edge-4", [.. Enumerable.Range(0, 7).Select(i => Sample("edge-4", start.AddSeconds(10 * i), 10 + i))]);

        var all = (await client.GetNodeSeriesAsync("edge-4", Hour)).Series.Single(s => s.Series == "cpu");
        Assert.Equal([10.0, 11, 12, 13, 14, 15, 16], all.Values);
        Assert.Equal(("cpu", "%"), (all.Metric, all.Unit));
        var thinned = (await client.GetNodeSeriesAsync("edge-4", Hour, maxPoints: 3)).Series.Single(s => s.Series == "cpu");
        Assert.Equal([10.0, 13, 16], thinned.Values);
        Assert.Equal(start.AddSeconds(60), thinned.Timestamps[^1]);

        var bad = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.GetNodeSeriesAsync("edge-4", Hour, maxPoints: 1));
        Assert.Equal("maxPoints", bad.ParamName);
    }
}
