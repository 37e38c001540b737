using Kyros.Perf.Resources;

namespace Kyros.Perf.Tuning;

/// <summary>
/// Alert thresholds learned from a host's own behaviour (after Azure Monitor's dynamic thresholds): a warning that flaps
/// on normal operation (raised again and again, or alerts that last under a minute) moves above the host's own p95 plus
/// the safety margin, per host and metric, in steps of at most the learning rate, never up to the critical level, and
/// never while the metric is really degrading (a gradual increase).
/// </summary>
public static class ThresholdRule
{
    /// <summary>Raises in the lookback that count as flapping; two suffice when most lasted under <see cref="ShortLived"/>.</summary>
    public const int FlapRaises = 3;
    public static readonly TimeSpan ShortLived = TimeSpan.FromMinutes(1);
    /// <summary>Samples behind the p95 before a threshold is moved on it.</summary>
    public const int MinSamples = 20;
    /// <summary>A warning stays this share below the critical threshold.</summary>
    public const double CriticalGap = 0.02;

    public static IEnumerable<TuningProposal> Propose(TuningInputs inputs)
    {
        var c = inputs.Configuration;
        var lookback = TuningInputs.Lookback(c);
        var since = inputs.Now - lookback;
        var events = inputs.Alerts.Where(e => e.Timestamp >= since).ToList();
        foreach (var host in inputs.Hosts)
        {
            foreach (var raises in events.Where(e => e.Node == host.Node && e.Kind == AlertEventKind.Raised && e.Level >= AlertLevel.Warning)
                         .GroupBy(e => e.Metric))
            {
                var metric = raises.Key;
                var raised = raises.ToList();
                var shortLived = raised.Count(r => events.FirstOrDefault(e => e.AlertId == r.AlertId && e.Kind == AlertEventKind.Resolved) is { } end
                                                   && end.Timestamp - r.Timestamp < ShortLived);
                var flapping = raised.Count >= FlapRaises || (raised.Count >= 2 && shortLived * 2 >= raised.Count);
                if (!flapping) continue;
                if (host.Thresholds.FirstOrDefault(t => t.Metric == metric) is not { } thresholds) continue;
                // A metric that is really climbing is not loosened: its alerts are telling the truth.
                if (host.Summary.Patterns.Any(p => p.Kind == PatternKind.GradualIncrease && ResourceMetrics.MetricOf(p.Series) == metric)) continue;
                var series = host.Summary.Metrics.Where(m => m.Metric == metric).ToList();
                if (series.Count == 0) continue;
                var samples = series.Min(s => s.Samples);
                if (samples < MinSamples) continue;
                var baseline = series.Max(s => s.P95);
                var current = thresholds.Levels.Warning;
                var ceiling = thresholds.Levels.Critical * (1 - CriticalGap);
                var target = Math.Min(baseline * (1 + c.SafetyMargin), ceiling);
                if (target <= current) continue;
                var step = Math.Round(Math.Min(target, current * (1 + c.LearningRate)), 2);
                if (step <= current) continue;
                var avoided = raised.Count(r => r.Value < step);
                var window = TuningText.Window(lookback);
                yield return new TuningProposal
                {
                    Rule = "threshold",
                    Action = "raise_threshold",
                    Target = $"threshold:{metric}@{host.Node}",
                    CurrentValue = current,
                    RecommendedValue = step,
                    Confidence = Math.Round(samples / (samples + 10.0) * (0.6 + 0.4 * Math.Min(1, raised.Count / 6.0)), 3),
                    ExpectedImpact = Math.Round((double)avoided / raised.Count, 3),
                    Reasoning = $"{host.Node}'s {metric} warning was raised {raised.Count} times in {window} ({shortLived} lasted under a minute) while its own p95 " +
                                $"is {baseline:0.##}; the warning moves from {current:0.##} to {step:0.##}, toward {target:0.##} (p95 + {c.SafetyMargin:P0}), " +
                                $"below critical {thresholds.Levels.Critical:0.##}.",
                    Evidence =
                    [
                        new TuningEvidence("warning_raises", raised.Count, raised.Count, window),
                        new TuningEvidence("short_lived_raises", shortLived, raised.Count, window),
                        new TuningEvidence($"{metric}_p95", baseline, samples, TuningText.Window(host.Summary.Window)),
                        new TuningEvidence("raises_below_new_threshold", avoided, raised.Count, window),
                    ],
                    EvaluationMetric = $"alert_raises_per_hour:{metric}@{host.Node}",
                    Baseline = raised.Count / lookback.TotalHours,
                };
            }
        }
    }
}
