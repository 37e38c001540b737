using Kyros.Perf.Catalog;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Kyros.Perf.Tuning;

namespace Kyros.Perf.Tests.Tuning;

/// <summary>The tuning rules, gates and judgment as plain functions of scripted statistics: no cluster.</summary>
public sealed class TuningRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly TuningConfiguration Config = new();

    private static TuningInputs Inputs(IReadOnlyList<ModelObservation>? models = null, IReadOnlyList<HostObservation>? hosts = null,
        IReadOnlyList<AlertEvent>? alerts = null, TuningConfiguration? config = null, Kyros.Perf.Alerts.ModelAlertRules? modelRules = null) =>
        new(Now, config ?? Config, models ?? [], hosts ?? [], alerts ?? [], TuningOverrides.None, modelRules ?? Kyros.Perf.Alerts.ModelAlertRules.Default);

    /// <summary>A model alert raised on <paramref name="series"/> at <paramref name="share"/> of its threshold, resolved <paramref name="lasting"/> later.</summary>
    public static IEnumerable<AlertEvent> ModelFlap(string model, string series, int i, TimeSpan lasting, DateTimeOffset now, double threshold = 10, double share = 1.05)
    {
        var at = now.AddMinutes(-55 + 5 * i);
        yield return new AlertEvent { AlertId = $"model:{model}:{series}:{i}", Subject = AlertSubjects.Model, Node = model, Series = series, Metric = series,
            Kind = AlertEventKind.Raised, Level = AlertLevel.Warning, Value = threshold * share, Threshold = threshold, Timestamp = at, Message = series };
        yield return new AlertEvent { AlertId = $"model:{model}:{series}:{i}", Subject = AlertSubjects.Model, Node = model, Series = series, Metric = series,
            Kind = AlertEventKind.Resolved, Level = AlertLevel.None, PreviousLevel = AlertLevel.Warning, Value = threshold * 0.5, Timestamp = at + lasting, Message = series };
    }

    [Fact]
    public void A_model_rule_whose_warnings_flap_across_models_moves_up_one_step_and_slo_rules_or_lasting_alerts_never_do()
    {
        var flapping = Enumerable.Range(0, 8).SelectMany(i => ModelFlap(i % 2 == 0 ? "gpt-4" : "claude", "error_rate", i, TimeSpan.FromMinutes(1), Now)).ToList();
        var p = Assert.Single(ModelAlertRuleRule.Propose(Inputs(alerts: flapping)));
        Assert.Equal(("model_rule:error_rate", "raise_model_rule"), (p.Target, p.Action));
        // One learning-rate step from the default warning (10 %), below critical (25 %).
        Assert.Equal((10.0, 11.0), (p.CurrentValue!.Value, p.RecommendedValue!.Value));
        Assert.True(TuningGates.Passes(new TuningRecommendation { Id = "tun-000001", Rule = p.Rule, Action = p.Action, Target = p.Target, Confidence = p.Confidence,
            ExpectedImpact = p.ExpectedImpact, Reasoning = p.Reasoning, CreatedAt = Now }, Config), $"confidence {p.Confidence}, impact {p.ExpectedImpact}");
        Assert.Contains(p.Evidence, e => e.Name == "models" && e.Value == 2);
        Assert.Equal(8 / TuningInputs.Lookback(Config).TotalHours, TuningMeasures.Measure(p.EvaluationMetric!, Inputs(alerts: flapping), Now - TuningInputs.Lookback(Config))!.Value, 6);

        // Alerts that held for half an hour told the truth; too few are not a pattern; no rules read, no proposal.
        Assert.Empty(ModelAlertRuleRule.Propose(Inputs(alerts: [.. Enumerable.Range(0, 8).SelectMany(i => ModelFlap("gpt-4", "error_rate", i, TimeSpan.FromMinutes(30), Now))])));
        Assert.Empty(ModelAlertRuleRule.Propose(Inputs(alerts: [.. flapping.Take(6)])));
        Assert.Empty(ModelAlertRuleRule.Propose(Inputs(alerts: flapping) with { ModelRules = null }));
        // The burn rate and a latency held to the catalog's SLO are promises: never loosened.
        Assert.Empty(ModelAlertRuleRule.Propose(Inputs(alerts: [.. Enumerable.Range(0, 8).SelectMany(i => ModelFlap("gpt-4", "error_budget_burn", i, TimeSpan.FromMinutes(1), Now))])));
        var slo = Model("gpt-4", [(1, 20, 2.0, 0)]) with { Model = new ModelDescriptor { Id = "gpt-4", LatencySloSeconds = 2 } };
        var latency = Enumerable.Range(0, 8).SelectMany(i => ModelFlap("gpt-4", "latency_p95", i, TimeSpan.FromMinutes(1), Now, threshold: 2)).ToList();
        Assert.Empty(ModelAlertRuleRule.Propose(Inputs(models: [slo], alerts: latency)));
        Assert.Equal("model_rule:latency_baseline", Assert.Single(ModelAlertRuleRule.Propose(Inputs(alerts: latency))).Target);
        // Host rules do not read model alerts.
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("gpt-4", 78, 600)], alerts: flapping)));
    }

    private static HostObservation Host(string node, double p95, int samples, double warning = 75, double critical = 90, bool degrading = false) =>
        new(node, new NodeSummary
        {
            Node = node, Group = "default", Window = TimeSpan.FromHours(1), SampleCount = samples, Silo = "s", SelfSampled = false, ActiveAlerts = [],
            Metrics = [new MetricSummary("cpu", "cpu", "%", samples, 10, p95 - 5, p95 + 1, p95, p95 - 3, Now)],
            Patterns = degrading
                ? [new PatternDetection { Series = "cpu", Kind = PatternKind.GradualIncrease, Confidence = 0.9, Description = "cpu climbs", DetectedAt = Now }]
                : [],
        }, [new MetricThresholds("cpu", new AlertThresholds(warning, critical, 95), "default")]);

    /// <summary>An alert raised at <paramref name="value"/> and resolved <paramref name="lasting"/> later.</summary>
    private static IEnumerable<AlertEvent> Flap(string node, int i, double value, TimeSpan lasting)
    {
        var at = Now.AddMinutes(-50 + 5 * i);
        yield return new AlertEvent { AlertId = $"{node}-{i}", Node = node, Series = "cpu", Metric = "cpu", Kind = AlertEventKind.Raised, Level = AlertLevel.Warning,
            Value = value, Threshold = 75, Timestamp = at, Message = "cpu" };
        yield return new AlertEvent { AlertId = $"{node}-{i}", Node = node, Series = "cpu", Metric = "cpu", Kind = AlertEventKind.Resolved, Level = AlertLevel.None,
            PreviousLevel = AlertLevel.Warning, Value = value - 10, Timestamp = at + lasting, Message = "cpu" };
    }

    [Fact]
    public void A_flapping_warning_moves_above_the_hosts_own_p95_in_one_bounded_step()
    {
        var alerts = Enumerable.Range(0, 5).SelectMany(i => Flap("web-1", i, 77 + i % 2, TimeSpan.FromSeconds(20))).ToList();
        var p = Assert.Single(ThresholdRule.Propose(Inputs(hosts: [Host("web-1", 78, 600)], alerts: alerts)));

        Assert.Equal("threshold:cpu@web-1", p.Target);
        Assert.Equal(75, p.CurrentValue);
        // Toward 78 x 1.2 = 93.6, capped below critical (88.2), and at most one learning-rate step: 75 x 1.1.
        Assert.Equal(82.5, p.RecommendedValue);
        Assert.Equal(1.0, p.ExpectedImpact); // every raise was below the new warning
        Assert.True(p.Confidence >= Config.ConfidenceThreshold, $"confidence {p.Confidence}");
        Assert.Contains(p.Evidence, e => e.Name == "warning_raises" && e.Value == 5);
        Assert.Equal(5, p.Baseline!.Value * TuningInputs.Lookback(Config).TotalHours, 6);

        // A larger learning rate reaches the target, never the critical level's ceiling.
        var big = Assert.Single(ThresholdRule.Propose(Inputs(hosts: [Host("web-1", 78, 600)], alerts: alerts, config: Config with { LearningRate = 1 })));
        Assert.Equal(88.2, big.RecommendedValue!.Value, 6);
    }

    [Fact]
    public void A_degrading_metric_is_never_loosened_and_rare_or_lasting_alerts_are_not_flapping()
    {
        var flapping = Enumerable.Range(0, 5).SelectMany(i => Flap("web-2", i, 77, TimeSpan.FromSeconds(20))).ToList();
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("web-2", 78, 600, degrading: true)], alerts: flapping)));

        var twoLong = Enumerable.Range(0, 2).SelectMany(i => Flap("web-3", i, 77, TimeSpan.FromMinutes(3))).ToList();
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("web-3", 78, 600)], alerts: twoLong)));
        // Two raises that each lasted under a minute do flap.
        var twoShort = Enumerable.Range(0, 2).SelectMany(i => Flap("web-4", i, 77, TimeSpan.FromSeconds(10))).ToList();
        Assert.Single(ThresholdRule.Propose(Inputs(hosts: [Host("web-4", 78, 600)], alerts: twoShort)));
        // Too few samples behind the p95: nothing.
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("web-1", 78, 5)], alerts: flapping.Select(e => e with { Node = "web-1" }).ToList())));
    }

    private static ModelObservation Model(string id, IEnumerable<(int MinutesAgo, int Count, double Latency, int Errors)> minutes, double timeout = 60, double penalty = 0)
    {
        var aggregate = new MetricsAggregate();
        var list = new List<ModelMinute>();
        var n = 0;
        foreach (var (ago, count, latency, errors) in minutes.OrderByDescending(m => m.MinutesAgo))
        {
            var start = Now.AddMinutes(-ago);
            var minute = new MetricsAggregate();
            for (var i = 0; i < count; i++)
            {
                var r = new ModelPerformanceRecord(id, null, start.AddSeconds(i % 60), latency * (0.9 + 0.2 * (i % 5) / 4), null, 10, 10, i >= errors,
                    i < errors ? "server_error" : null, 0.001, null, $"r{n++}");
                minute.Add(r);
                aggregate.Add(r);
            }
            list.Add(new ModelMinute(start, minute.Count, minute.Successes, 0, minute.Latency.Quantile(0.5), minute.Latency.Quantile(0.99), 0, 0, minute.CostTotal));
        }
        var summary = ModelSummary.Create(id, "1h", Now.AddHours(-1), Now, aggregate);
        return new ModelObservation(new ModelDescriptor { Id = id, TimeoutSeconds = timeout }, summary, list, timeout, penalty);
    }

    [Fact]
    public void A_timeout_follows_the_observed_p99_with_headroom_within_one_step()
    {
        var steady = Model("m", Enumerable.Range(1, 30).Select(i => (i, 10, 2.0, 0)), timeout: 60);
        var p = Assert.Single(TimeoutRule.Propose(Inputs(models: [steady])));
        Assert.Equal("timeout:m", p.Target);
        Assert.Equal(54, p.RecommendedValue); // one 10% step down from 60, toward p99 x 1.2 (about 2.6 s)
        var far = Assert.Single(TimeoutRule.Propose(Inputs(models: [steady], config: Config with { LearningRate = 1 })));
        Assert.InRange(far.RecommendedValue!.Value, 2.2 * 1.2 * 0.99, 2.2 * 1.2 * 1.01);
        // Within 5% already, or too few calls: nothing.
        Assert.Empty(TimeoutRule.Propose(Inputs(models: [Model("m", Enumerable.Range(1, 30).Select(i => (i, 10, 2.0, 0)), timeout: 2.65)])));
        Assert.Empty(TimeoutRule.Propose(Inputs(models: [Model("m", [(1, 20, 2.0, 0)])])));
    }

    [Fact]
    public void Latency_that_creeps_up_shifts_traffic_away_but_one_bad_minute_does_not()
    {
        var creeping = Model("slow", Enumerable.Range(1, 30).Select(i => (i, 10, 1.0 + (30 - i) * 0.05, 0)));
        var p = Assert.Single(DegradationRule.Propose(Inputs(models: [creeping])));
        Assert.Equal(("shift_traffic", "model:slow"), (p.Action, p.Target));
        Assert.Equal(0.1, p.RecommendedValue);
        Assert.Contains("median latency climbed", p.Reasoning);
        Assert.Contains(p.Evidence, e => e.Name == "latency_trend_t" && e.Value >= DegradationRule.Significance);

        var oneBadMinute = Model("spiky", Enumerable.Range(1, 30).Select(i => (i, 10, i == 1 ? 5.0 : 1.0, 0)));
        Assert.Empty(DegradationRule.Propose(Inputs(models: [oneBadMinute])));
    }

    [Fact]
    public void An_error_jump_is_found_by_its_z_score()
    {
        var jumping = Model("flaky", Enumerable.Range(1, 40).Select(i => (i, 10, 1.0, i <= 8 ? 4 : 0)));
        var p = Assert.Single(DegradationRule.Propose(Inputs(models: [jumping])));
        Assert.Contains("error rate jumped", p.Reasoning);
        Assert.Contains(p.Evidence, e => e.Name == "error_rate_recent" && e.Value > 0.3);
    }

    /// <summary>A warning raised on <paramref name="metric"/> (no resolution needed: the raise is the signal).</summary>
    private static AlertEvent Raised(string node, string metric, int i) => new()
    {
        AlertId = $"{node}-{metric}-{i}", Node = node, Series = metric, Metric = metric, Kind = AlertEventKind.Raised, Level = AlertLevel.Warning,
        Value = 50, Threshold = 40, Timestamp = Now.AddMinutes(-40 + 10 * i), Message = metric,
    };

    [Fact]
    public void A_warning_that_stays_quiet_while_its_host_saturates_is_tightened_toward_the_level_the_host_reaches()
    {
        // cpu p95 60, mean 55, warning 75: the queue backed up three times and cpu never warned.
        var queue = Enumerable.Range(0, 3).Select(i => Raised("gpu-1", "queue", i)).ToList();
        var p = Assert.Single(ThresholdRule.Propose(Inputs(hosts: [Host("gpu-1", 60, 600)], alerts: queue)));
        Assert.Equal(("lower_threshold", "threshold:cpu@gpu-1", 75.0), (p.Action, p.Target, p.CurrentValue));
        // Toward max(60 x 0.8, 55 x 1.2) = 66, at most one learning-rate step: 75 x 0.9.
        Assert.Equal(67.5, p.RecommendedValue);
        Assert.Contains("queue raised 3 warnings", p.Reasoning);
        Assert.Contains(p.Evidence, e => e.Name == "saturation_raises" && e.Value == 3);
        Assert.True(TuningGates.Passes(ToRecommendation(p), Config), $"confidence {p.Confidence}, impact {p.ExpectedImpact}");
        // A larger step stops at the host's normal operation plus the margin, never below it.
        Assert.Equal(66, Assert.Single(ThresholdRule.Propose(Inputs(hosts: [Host("gpu-1", 60, 600)], alerts: queue, config: Config with { LearningRate = 1 })))
            .RecommendedValue);

        // Not when cpu warned too, not without saturation, not on a host that already runs near its warning.
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("gpu-1", 60, 600)], alerts: [.. queue, Raised("gpu-1", "cpu", 3)])));
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("gpu-1", 60, 600)], alerts: [Raised("gpu-1", "queue", 0)])));
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("gpu-1", 68, 600)], alerts: queue))); // mean 63 x 1.2 = 75.6: the warning is its normal level already
        Assert.Empty(ThresholdRule.Propose(Inputs(hosts: [Host("gpu-2", 60, 600)], alerts: queue))); // saturation on another host
    }

    private static TuningRecommendation ToRecommendation(TuningProposal p) => new()
    {
        Id = "p", Rule = p.Rule, Action = p.Action, Target = p.Target, Confidence = p.Confidence, ExpectedImpact = p.ExpectedImpact,
        Reasoning = p.Reasoning, CreatedAt = Now,
    };

    private static TuningRecommendation Rec(string id, string target, double confidence, double impact, string action = "set_timeout") => new()
    {
        Id = id, Rule = "timeout", Action = action, Target = target, Confidence = confidence, ExpectedImpact = impact, Reasoning = "r", CreatedAt = Now,
    };

    [Fact]
    public void The_gates_apply_nothing_below_them_nothing_without_auto_apply_and_no_more_than_the_free_slots()
    {
        TuningRecommendation[] proposed =
        [
            Rec("a", "timeout:a", 0.9, 0.5), Rec("b", "timeout:b", 0.69, 0.9), Rec("c", "timeout:c", 0.9, 0.05),
            Rec("d", "timeout:d", 0.8, 0.3), Rec("e", "timeout:e", 0.95, 0.9), Rec("f", "model:f", 0.99, 0.99, "report"),
        ];
        var chosen = TuningGates.Choose(proposed, [], Config).Select(r => r.Id).ToArray();
        Assert.Equal(["e", "a"], chosen); // the best two that pass both gates; b and c fail one; a report is never applied

        Assert.Equal(["e"], TuningGates.Choose(proposed, [Rec("x", "timeout:x", 1, 1) with { Status = TuningStatus.Applied }], Config).Select(r => r.Id));
        Assert.Empty(TuningGates.Choose(proposed, [], Config with { AutoApply = false }));
        // A target already under evaluation takes no second change.
        Assert.Equal(["a"], TuningGates.Choose(proposed, [Rec("y", "timeout:e", 1, 1) with { Status = TuningStatus.Applied }], Config).Select(r => r.Id));

        // A target rolled back within the lookback is held: proposed again, not applied again, until the lookback has passed.
        var rolledBack = Rec("z", "timeout:e", 1, 1) with { Status = TuningStatus.RolledBack, DecidedAt = Now.AddMinutes(-30) };
        Assert.Equal(["a", "d"], TuningGates.Choose(proposed, [], Config, TuningGates.Held([rolledBack], Now, Config)).Select(r => r.Id));
        Assert.Empty(TuningGates.Held([rolledBack], Now.AddHours(1), Config));
        Assert.Empty(TuningGates.Held([rolledBack with { Status = TuningStatus.Kept }], Now, Config));
    }

    [Fact]
    public void A_change_is_worse_only_past_the_safety_margin()
    {
        Assert.False(TuningMeasures.IsWorse(10, 11.9, lowerIsBetter: true, 0.2));
        Assert.True(TuningMeasures.IsWorse(10, 12.1, lowerIsBetter: true, 0.2));
        Assert.False(TuningMeasures.IsWorse(0, 0.004, lowerIsBetter: true, 0.2)); // a rate from 0 gets a small absolute slack
        Assert.True(TuningMeasures.IsWorse(1, 0.7, lowerIsBetter: false, 0.2));
        Assert.False(TuningMeasures.IsWorse(1, 0.85, lowerIsBetter: false, 0.2));

        var alerts = Enumerable.Range(0, 4).SelectMany(i => Flap("h", i, 80, TimeSpan.FromSeconds(10))).ToList();
        Assert.Equal(4, TuningMeasures.Measure("alert_raises_per_hour:cpu@h", Inputs(alerts: alerts), Now.AddHours(-1)));
    }

    [Fact]
    public void Configuration_values_out_of_range_are_refused_naming_the_field()
    {
        Assert.Equal("learning_rate", Assert.Throws<ArgumentException>(() => new TuningConfigurationUpdate { LearningRate = 1.5 }.ApplyTo(Config)).ParamName);
        Assert.Equal("tuning_interval_minutes", Assert.Throws<ArgumentException>(() => new TuningConfigurationUpdate { TuningIntervalMinutes = 0.5 }.ApplyTo(Config)).ParamName);
        Assert.Equal("max_concurrent_tunings", Assert.Throws<ArgumentException>(() => new TuningConfigurationUpdate { MaxConcurrentTunings = 0 }.ApplyTo(Config)).ParamName);
        var changed = new TuningConfigurationUpdate { SafetyMargin = 0.3 }.ApplyTo(Config);
        Assert.Equal(Config with { SafetyMargin = 0.3 }, changed);
    }
}
