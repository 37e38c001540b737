using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Resources;

public sealed class AlertEvaluatorTests
{
    private static readonly ResourceOptions Options = new();

    private static List<AlertEvent> Drive(AlertEvaluator alerts, params double[] cpu)
    {
        var events = new List<AlertEvent>();
        for (var i = 0; i < cpu.Length; i++) events.AddRange(alerts.Evaluate(Series.Cpu("h1", i, cpu[i]), DefaultThresholds.All.GetValueOrDefault));
        return events;
    }

    [Fact]
    public void An_alert_needs_two_samples_in_a_row_escalates_in_place_and_resolves_below_the_hysteresis_margin()
    {
        var alerts = new AlertEvaluator("h1", Options);
        // One sample over 70 is not enough; two are. Then critical (85), back to warning, and resolved only under 65.
        var events = Drive(alerts, 50, 72, 60, 72, 73, 88, 90, 74, 73, 67, 66, 64, 63);

        Assert.Equal(
            [(AlertEventKind.Raised, AlertLevel.Warning), (AlertEventKind.Escalated, AlertLevel.Critical),
             (AlertEventKind.DeEscalated, AlertLevel.Warning), (AlertEventKind.Resolved, AlertLevel.None)],
            events.Select(e => (e.Kind, e.Level)).ToArray());
        Assert.Equal(Series.Start + 4 * Series.Step, events[0].Timestamp);
        Assert.Equal(Series.Start + 12 * Series.Step, events[3].Timestamp);
        Assert.Single(events.Select(e => e.AlertId).Distinct());
        Assert.Equal(70, events[0].Threshold);
        Assert.Equal(85, events[1].Threshold);
        Assert.Equal(AlertLevel.Warning, events[3].PreviousLevel);
        Assert.Empty(alerts.Active);
    }

    [Fact]
    public void A_noisy_but_steady_series_around_a_threshold_raises_once_and_does_not_flap()
    {
        var alerts = new AlertEvaluator("h1", Options);
        var noisy = Series.FlatNoise(500, seed: 7, level: 71, noise: 1.5);
        var events = Drive(alerts, noisy);

        var raised = Assert.Single(events);
        Assert.Equal(AlertEventKind.Raised, raised.Kind);
        Assert.Equal(AlertLevel.Warning, Assert.Single(alerts.Active).Level);
    }

    [Fact]
    public void A_jump_to_emergency_is_raised_at_the_level_held_by_every_sample_of_the_run()
    {
        var alerts = new AlertEvaluator("h1", Options);
        var events = Drive(alerts, 88, 97, 98);

        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Critical), (AlertEventKind.Escalated, AlertLevel.Emergency)],
            events.Select(e => (e.Kind, e.Level)).ToArray());
    }

    [Fact]
    public void Restored_alerts_resolve_under_their_old_id_and_metrics_without_thresholds_raise_nothing()
    {
        var alerts = new AlertEvaluator("h1", Options);
        var before = new ActiveAlert("h1:cpu:old", "h1", "cpu", AlertLevel.Critical, Series.Start, Series.Start, 90);
        alerts.Restore([before]);
        var events = Drive(alerts, 10, 10);
        var resolved = Assert.Single(events);
        Assert.Equal(("h1:cpu:old", AlertEventKind.Resolved), (resolved.AlertId, resolved.Kind));

        var connections = new AlertEvaluator("h1", Options);
        var quiet = connections.Evaluate(new ResourceSample { Node = "h1", Timestamp = Series.Start, TcpConnections = 100_000 }, DefaultThresholds.All.GetValueOrDefault);
        Assert.Empty(quiet);
    }

    [Fact]
    public void An_alert_on_a_series_that_stops_being_reported_resolves_after_as_many_samples()
    {
        var alerts = new AlertEvaluator("h1", Options);
        ResourceSample Disk(int i, params DiskSample[] disks) => new() { Node = "h1", Timestamp = Series.Start + i * Series.Step, Disks = disks };
        var events = new List<AlertEvent>();
        events.AddRange(alerts.Evaluate(Disk(0, new DiskSample("/data", 95, 100)), DefaultThresholds.All.GetValueOrDefault));
        events.AddRange(alerts.Evaluate(Disk(1, new DiskSample("/data", 96, 100)), DefaultThresholds.All.GetValueOrDefault));
        events.AddRange(alerts.Evaluate(Disk(2), DefaultThresholds.All.GetValueOrDefault));
        Assert.Single(events);
        events.AddRange(alerts.Evaluate(Disk(3), DefaultThresholds.All.GetValueOrDefault));

        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Emergency), (AlertEventKind.Resolved, AlertLevel.None)], events.Select(e => (e.Kind, e.Level)).ToArray());
        Assert.Contains("no longer reported", events[1].Message);
        Assert.Empty(alerts.Active);
    }

    [Fact]
    public void Counts_use_a_share_of_the_threshold_as_their_margin()
    {
        var alerts = new AlertEvaluator("h1", Options);
        var thresholds = new AlertThresholds(1000, 2000, 3000);
        var events = new List<AlertEvent>();
        double[] queue = [1000, 1000, 960, 960, 940, 940];
        for (var i = 0; i < queue.Length; i++)
            events.AddRange(alerts.Evaluate(new ResourceSample { Node = "h1", Timestamp = Series.Start + i * Series.Step, QueueSize = (int)queue[i] },
                m => m == ResourceMetrics.Queue ? thresholds : null));
        // 5% of 1000 is 50: 960 holds the warning, 940 twice resolves it.
        Assert.Equal([AlertEventKind.Raised, AlertEventKind.Resolved], events.Select(e => e.Kind).ToArray());
        Assert.Equal(Series.Start + 5 * Series.Step, events[1].Timestamp);
    }
}
