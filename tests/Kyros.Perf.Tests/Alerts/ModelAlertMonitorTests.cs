using Kyros.Perf.Alerts;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Alerts;

/// <summary>Each model alert rule on summaries built from records, without a cluster.</summary>
public sealed class ModelAlertMonitorTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly AlertOptions Options = new();

    /// <summary>A summary of <paramref name="calls"/> calls of which <paramref name="failed"/> failed, each taking <paramref name="seconds"/>.</summary>
    private static ModelSummary Summary(string window, int calls, int failed = 0, double seconds = 1.0)
    {
        var aggregate = new MetricsAggregate();
        for (var i = 0; i < calls; i++)
            aggregate.Add(Records.Valid("m1", seconds, Noon) with { Success = i >= failed, ErrorKind = i < failed ? "server_error" : null });
        return ModelSummary.Create("m1", window, Noon.AddMinutes(-5), Noon, aggregate);
    }

    private static List<AlertEvent> Drive(ModelAlertMonitor monitor, IEnumerable<ModelWindows> steps, ModelSlos? slos = null, ModelAlertRules? rules = null)
    {
        var events = new List<AlertEvent>();
        var i = 0;
        foreach (var step in steps) events.AddRange(monitor.Evaluate(Noon.AddSeconds(10 * i++), step, slos ?? new ModelSlos(), rules ?? ModelAlertRules.Default));
        return events;
    }

    private static ModelWindows Errors(int calls, int failed, int? hourCalls = null, int? hourFailed = null) =>
        new(Summary("5m", calls, failed), hourCalls is { } h ? Summary("1h", h, hourFailed ?? 0) : null, Summary("24h", 1000));

    private static (AlertEventKind, AlertLevel)[] Kinds(IEnumerable<AlertEvent> events, string series) =>
        events.Where(e => e.Series == series).Select(e => (e.Kind, e.Level)).ToArray();

    [Fact]
    public void Error_rate_is_raised_at_warning_then_critical_after_two_evaluations_and_resolves_below_the_margin()
    {
        var monitor = new ModelAlertMonitor("m1", Options);
        // 5 %, then 12 % (one evaluation is not enough), 12 %, 30 %, 30 %, 9.5 % (within the 10 % margin of 10 %: held), 8 %, 8 %.
        int[] failed = [5, 12, 12, 30, 30, 19, 16, 16];
        var events = Drive(monitor, failed.Select(f => f == 19 ? Errors(200, 19) : Errors(100 * (f == 16 ? 2 : 1), f)));

        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning), (AlertEventKind.Escalated, AlertLevel.Critical),
            (AlertEventKind.DeEscalated, AlertLevel.Warning), (AlertEventKind.Resolved, AlertLevel.None)], Kinds(events, ModelAlertMonitor.ErrorRate));
        var raised = events[0];
        Assert.Equal((AlertSubjects.Model, "m1", ModelAlertMonitor.ErrorRate, 10.0), (raised.Subject, raised.Node, raised.Metric, raised.Threshold));
        Assert.Equal("Model m1: error_rate is warning at 12% over 5m (12 of 100 calls failed) (threshold 10%).", raised.Message);
        Assert.Equal(25, events[1].Threshold);
        Assert.Single(events.Select(e => e.AlertId).Distinct());
        Assert.StartsWith("model:m1:error_rate:", raised.AlertId);
        Assert.Empty(monitor.Active);
    }

    [Fact]
    public void Error_rate_says_nothing_under_twenty_calls_and_an_alert_resolves_once_calls_stop()
    {
        var monitor = new ModelAlertMonitor("m1", Options);
        // 19 calls all failed: nothing. Then 40 % of 20 calls: critical. Then no calls: resolved after two evaluations.
        var quiet = Drive(monitor, [Errors(19, 19), Errors(19, 19), Errors(19, 19)]);
        Assert.Empty(quiet);
        var events = Drive(monitor, [Errors(20, 8), Errors(20, 8), Errors(0, 0), Errors(0, 0)]);
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Critical), (AlertEventKind.Resolved, AlertLevel.None)], Kinds(events, ModelAlertMonitor.ErrorRate));
        Assert.Contains("fewer than 20 calls", events[1].Message);
    }

    [Fact]
    public void A_steady_noisy_error_rate_near_the_threshold_raises_once_and_does_not_flap()
    {
        var monitor = new ModelAlertMonitor("m1", Options);
        var random = new Random(7);
        // 10-12 % errors on 200 calls: always above the warning's margin (9 %), never critical.
        var events = Drive(monitor, Enumerable.Range(0, 300).Select(_ => Errors(200, 20 + random.Next(0, 5))));
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning)], Kinds(events, ModelAlertMonitor.ErrorRate));
    }

    [Fact]
    public void Latency_is_judged_against_the_24h_baseline_without_an_slo_and_against_the_slo_with_one()
    {
        ModelWindows Slow(double seconds) => new(Summary("5m", 50, seconds: seconds), null, Summary("24h", 1000, seconds: 1.0));

        // Baseline 1 s: 1.5 s is nothing, 2.5 s is warning (2×), 3.5 s critical (3×).
        var baseline = new ModelAlertMonitor("m1", Options);
        Assert.Empty(Drive(baseline, [Slow(1.5), Slow(1.5)]));
        var events = Drive(baseline, [Slow(2.5), Slow(2.5), Slow(3.5), Slow(3.5)]);
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning), (AlertEventKind.Escalated, AlertLevel.Critical)], Kinds(events, ModelAlertMonitor.LatencyP95));
        // Time to first token (a quarter of the latency in these records) moves with it against its own baseline.
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning), (AlertEventKind.Escalated, AlertLevel.Critical)], Kinds(events, ModelAlertMonitor.TtftP95));
        var warning = events.First(e => e.Series == ModelAlertMonitor.LatencyP95);
        Assert.Equal(2.0, warning.Threshold!.Value, 1);
        Assert.Contains("24h baseline", warning.Message);

        // An SLO of 1.2 s: 1.5 s is already warning (≥ SLO) and 2.5 s critical (≥ 2× SLO), whatever the baseline.
        var slo = new ModelAlertMonitor("m1", Options);
        var withSlo = Drive(slo, [Slow(1.5), Slow(1.5), Slow(2.5), Slow(2.5)], new ModelSlos(LatencySeconds: 1.2));
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning), (AlertEventKind.Escalated, AlertLevel.Critical)], Kinds(withSlo, ModelAlertMonitor.LatencyP95));
        Assert.Equal(2.4, withSlo.First(e => e.Series == ModelAlertMonitor.LatencyP95 && e.Level == AlertLevel.Critical).Threshold!.Value, 9);
        Assert.Contains("SLO 1.2 s", withSlo[0].Message);
    }

    [Fact]
    public void Error_budget_burn_needs_both_windows_and_takes_the_lower_rate()
    {
        var slos = new ModelSlos(Availability: 0.99);
        // Budget 1 %: 20 % errors is a burn of 20. With the hour at only 5 % (burn 5) nothing fires.
        var monitor = new ModelAlertMonitor("m1", Options);
        Assert.Empty(Kinds(Drive(monitor, [Errors(100, 20, 1000, 50), Errors(100, 20, 1000, 50)], slos), ModelAlertMonitor.ErrorBudgetBurn));
        // Hour at 8 % (burn 8): warning; hour at 16 % (burn 16, short 20): critical, at the lower of the two.
        var events = Drive(monitor, [Errors(100, 20, 1000, 80), Errors(100, 20, 1000, 80), Errors(100, 20, 1000, 160), Errors(100, 20, 1000, 160)], slos);
        var burn = events.Where(e => e.Series == ModelAlertMonitor.ErrorBudgetBurn).ToArray();
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning), (AlertEventKind.Escalated, AlertLevel.Critical)], burn.Select(e => (e.Kind, e.Level)).ToArray());
        Assert.Equal(16, burn[1].Value, 6);
        Assert.Equal(14.4, burn[1].Threshold);
        Assert.Contains("99% availability", burn[1].Message);
        // Without an availability SLO there is no burn rule at all.
        Assert.Empty(Kinds(Drive(new ModelAlertMonitor("m1", Options), [Errors(100, 20, 1000, 160), Errors(100, 20, 1000, 160)]), ModelAlertMonitor.ErrorBudgetBurn));
    }

    [Fact]
    public void Changed_rules_apply_and_restored_alerts_resolve_under_their_old_id()
    {
        var rules = ModelAlertRules.Default.With(ModelAlertRules.ErrorRateRule, new ModelRuleLevels(5, 20, MinCalls: 10));
        var monitor = new ModelAlertMonitor("m1", Options);
        var events = Drive(monitor, [Errors(10, 1), Errors(10, 1)], rules: rules);
        Assert.Equal([(AlertEventKind.Raised, AlertLevel.Warning)], Kinds(events, ModelAlertMonitor.ErrorRate));

        var again = new ModelAlertMonitor("m1", Options);
        again.Restore(monitor.Active);
        var resolved = Drive(again, [Errors(100, 0), Errors(100, 0)], rules: rules);
        Assert.Equal(events[0].AlertId, Assert.Single(resolved).AlertId);
        Assert.Equal(AlertEventKind.Resolved, resolved[0].Kind);
    }

    [Fact]
    public void Rules_are_checked_naming_the_field()
    {
        Assert.Equal("critical", Assert.Throws<ArgumentException>(() => ModelAlertRules.Default.With(ModelAlertRules.ErrorRateRule, new ModelRuleLevels(30, 20))).ParamName);
        Assert.Equal("warning", Assert.Throws<ArgumentException>(() => ModelAlertRules.Default.With(ModelAlertRules.ErrorRateRule, new ModelRuleLevels(double.NaN, 20))).ParamName);
        Assert.Equal("min_calls", Assert.Throws<ArgumentException>(() => ModelAlertRules.Default.With(ModelAlertRules.LatencySloRule, new ModelRuleLevels(1, 2, 0))).ParamName);
        Assert.Equal("rule", Assert.Throws<ArgumentException>(() => ModelAlertRules.Default.With("p99", new ModelRuleLevels(1, 2))).ParamName);
    }
}
