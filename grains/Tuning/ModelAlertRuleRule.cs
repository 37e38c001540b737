using Kyros.Perf.Alerts;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Tuning;

/// <summary>
/// The cluster's model alert rules learned from what they raise: a rule whose warnings flap across the models (raised
/// again and again, most of them resolved within a few evaluations) is noise, not news, so its warning moves up in steps
/// of at most the learning rate, never up to the critical level. Only the relative rules are tuned: <c>error_rate</c>
/// and <c>latency_baseline</c>. The SLO rules (<c>latency_slo</c>, <c>error_budget_burn</c>) measure a promise the
/// catalog made, which a tuner has no business loosening.
/// </summary>
public static class ModelAlertRuleRule
{
    /// <summary>Warning raises of one rule in the lookback (over all models) before it counts as flapping.</summary>
    public const int FlapRaises = 4;
    /// <summary>A raise resolved within this long was noise.</summary>
    public static readonly TimeSpan ShortLived = TimeSpan.FromMinutes(3);

    /// <summary>The model alert series each tuned rule raises on (the latency series only for models without an SLO).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> SeriesOf = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [ModelAlertRules.ErrorRateRule] = [ModelAlertMonitor.ErrorRate],
        [ModelAlertRules.LatencyBaselineRule] = [ModelAlertMonitor.LatencyP95, ModelAlertMonitor.TtftP95],
    };

    public const string Action = "raise_model_rule";

    public static IEnumerable<TuningProposal> Propose(TuningInputs inputs)
    {
        if (inputs.ModelRules is not { } rules) yield break;
        var c = inputs.Configuration;
        var lookback = TuningInputs.Lookback(c);
        var since = inputs.Now - lookback;
        var events = inputs.Alerts.Where(e => e.Subject == AlertSubjects.Model && e.Timestamp >= since).ToList();
        // A latency series held to an SLO in the catalog is judged by latency_slo, not by the baseline rule.
        var latencySlo = inputs.Models.Where(m => m.Model.LatencySloSeconds is not null).Select(m => m.Model.Id).ToHashSet(StringComparer.Ordinal);
        var ttftSlo = inputs.Models.Where(m => m.Model.TtftSloSeconds is not null).Select(m => m.Model.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var (rule, series) in SeriesOf)
        {
            var raised = events.Where(e => e.Kind == AlertEventKind.Raised && e.Level >= AlertLevel.Warning && series.Contains(e.Metric)
                                           && !(e.Metric == ModelAlertMonitor.LatencyP95 && latencySlo.Contains(e.Node))
                                           && !(e.Metric == ModelAlertMonitor.TtftP95 && ttftSlo.Contains(e.Node))).ToList();
            if (raised.Count < FlapRaises) continue;
            var shortLived = ThresholdRule.ShortLivedRaises(raised, events, ShortLived);
            // Flapping: most raises were over within minutes. Alerts that held are telling the truth and stay as they are.
            if (shortLived * 3 < raised.Count * 2) continue;
            var levels = rules.Of(rule);
            var current = levels.Warning;
            var ceiling = levels.Critical * (1 - ThresholdRule.CriticalGap);
            var step = Math.Round(Math.Min(ceiling, current * (1 + c.LearningRate)), 2);
            if (step <= current) continue;
            // Each raise in the rule's own unit (a share of the threshold it crossed, times the warning it was raised at).
            var avoided = raised.Count(r => r.Threshold is > 0 && r.Value / r.Threshold.Value * current < step);
            var models = raised.Select(r => r.Node).Distinct(StringComparer.Ordinal).Count();
            var window = TuningText.Window(lookback);
            yield return new TuningProposal
            {
                Rule = "model_alert_rule",
                Action = Action,
                Target = $"model_rule:{rule}",
                CurrentValue = current,
                RecommendedValue = step,
                Confidence = Math.Round(Math.Min(1, raised.Count / 8.0) * (0.5 + 0.5 * shortLived / raised.Count), 3),
                ExpectedImpact = Math.Round((double)Math.Max(avoided, shortLived) / raised.Count, 3),
                Reasoning = $"The model rule {rule} raised {raised.Count} warnings on {models} model(s) in {window}, {shortLived} of them resolved within "
                            + $"{ShortLived.TotalMinutes:0} minutes: noise. Its warning moves from {current:0.##} to {step:0.##}, below critical {levels.Critical:0.##}.",
                Evidence =
                [
                    new TuningEvidence("warning_raises", raised.Count, raised.Count, window),
                    new TuningEvidence("short_lived_raises", shortLived, raised.Count, window),
                    new TuningEvidence("models", models, models, window),
                    new TuningEvidence("raises_below_new_warning", avoided, raised.Count, window),
                ],
                EvaluationMetric = $"model_alert_raises_per_hour:{rule}",
                Baseline = raised.Count / lookback.TotalHours,
            };
        }
    }

    /// <summary>Warning raises of <paramref name="rule"/>'s series since <paramref name="since"/>, per hour.</summary>
    public static double? RaisesPerHour(TuningInputs inputs, string rule, DateTimeOffset since)
    {
        if (!SeriesOf.TryGetValue(rule, out var series)) return null;
        var hours = Math.Max((inputs.Now - since).TotalHours, 1 / 60.0);
        return inputs.Alerts.Count(e => e.Subject == AlertSubjects.Model && series.Contains(e.Metric) && e.Kind == AlertEventKind.Raised
                                        && e.Level >= AlertLevel.Warning && e.Timestamp >= since) / hours;
    }
}
