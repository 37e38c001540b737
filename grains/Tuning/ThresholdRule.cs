using Kyros.Perf.Resources;

namespace Kyros.Perf.Tuning;

/// <summary>
/// Alert thresholds learned from a host's own behaviour (after Azure Monitor's dynamic thresholds): a warning that flaps
/// on normal operation (raised again and again, or alerts that last under a minute) moves above the host's own p95 plus
/// the safety margin, per host and metric, in steps of at most the learning rate, never up to the critical level, and
/// never while the metric is really degrading (a gradual increase). And the other way: a resource warning that stays quiet
/// while its host is saturated (its request queue or connections raise warnings) moves down toward the level the host
/// reaches, so that it warns before the queue backs up.
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

    /// <summary>Metrics whose warnings say a host is saturated.</summary>
    public static readonly IReadOnlyList<string> SaturationMetrics = [ResourceMetrics.Queue, ResourceMetrics.Connections];
    /// <summary>Resource metrics whose warnings should lead saturation, so may be tightened.</summary>
    public static readonly IReadOnlyList<string> LeadingMetrics =
        [ResourceMetrics.Cpu, ResourceMetrics.Memory, ResourceMetrics.GpuUtilization, ResourceMetrics.GpuMemory];
    /// <summary>Saturation warnings in the lookback before a quiet metric is tightened.</summary>
    public const int SaturationRaises = 2;

    public static IEnumerable<TuningProposal> Propose(TuningInputs inputs) => Loosen(inputs).Concat(Tighten(inputs));

    /// <summary>How many of <paramref name="raised"/> were resolved, in <paramref name="events"/>, within <paramref name="within"/> of being raised.</summary>
    public static int ShortLivedRaises(IReadOnlyList<AlertEvent> raised, IEnumerable<AlertEvent> events, TimeSpan within)
    {
        var resolvedAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        foreach (var e in events)
            if (e.Kind == AlertEventKind.Resolved) resolvedAt.TryAdd(e.AlertId, e.Timestamp);
        return raised.Count(r => resolvedAt.TryGetValue(r.AlertId, out var end) && end - r.Timestamp < within);
    }

    private static IEnumerable<TuningProposal> Loosen(TuningInputs inputs)
    {
        var c = inputs.Configuration;
        var lookback = TuningInputs.Lookback(c);
        var since = inputs.Now - lookback;
        var events = inputs.Alerts.Where(e => e.Subject == AlertSubjects.Host && e.Timestamp >= since).ToList();
        foreach (var host in inputs.Hosts)
        {
            foreach (var raises in events.Where(e => e.Node == host.Node && e.Kind == AlertEventKind.Raised && e.Level >= AlertLevel.Warning)
                         .GroupBy(e => e.Metric))
            {
                var metric = raises.Key;
                var raised = raises.ToList();
                var shortLived = ShortLivedRaises(raised, events, ShortLived);
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

    private static IEnumerable<TuningProposal> Tighten(TuningInputs inputs)
    {
        var c = inputs.Configuration;
        var lookback = TuningInputs.Lookback(c);
        var since = inputs.Now - lookback;
        var raises = inputs.Alerts.Where(e => e.Subject == AlertSubjects.Host && e.Timestamp >= since && e.Kind == AlertEventKind.Raised && e.Level >= AlertLevel.Warning).ToList();
        foreach (var host in inputs.Hosts)
        {
            var saturation = raises.Where(e => e.Node == host.Node && SaturationMetrics.Contains(e.Metric)).ToList();
            if (saturation.Count < SaturationRaises) continue;
            foreach (var thresholds in host.Thresholds.Where(t => LeadingMetrics.Contains(t.Metric)))
            {
                var metric = thresholds.Metric;
                if (raises.Any(e => e.Node == host.Node && e.Metric == metric)) continue;
                var series = host.Summary.Metrics.Where(m => m.Metric == metric).ToList();
                if (series.Count == 0) continue;
                var samples = series.Min(s => s.Samples);
                if (samples < MinSamples) continue;
                var (p95, mean) = (series.Max(s => s.P95), series.Max(s => s.Mean));
                // Warn just below the level the host reaches, but never on its normal operation (its mean plus the margin).
                var target = Math.Round(Math.Max(p95 * (1 - c.SafetyMargin), mean * (1 + c.SafetyMargin)), 2);
                var current = thresholds.Levels.Warning;
                if (target >= current) continue;
                var step = Math.Round(Math.Max(target, current * (1 - c.LearningRate)), 2);
                if (step >= current) continue;
                var window = TuningText.Window(lookback);
                var saturatedBy = string.Join(" and ", saturation.Select(e => e.Metric).Distinct().Order(StringComparer.Ordinal));
                yield return new TuningProposal
                {
                    Rule = "threshold",
                    Action = "lower_threshold",
                    Target = $"threshold:{metric}@{host.Node}",
                    CurrentValue = current,
                    RecommendedValue = step,
                    Confidence = Math.Round(samples / (samples + 10.0) * Math.Min(1, saturation.Count / 4.0), 3),
                    ExpectedImpact = Math.Round(Math.Min(1, (current - step) / (current - target)), 3),
                    Reasoning = $"{host.Node}'s {saturatedBy} raised {saturation.Count} warnings in {window} while its {metric} warning ({current:0.##}) " +
                                $"never fired, with {metric} at p95 {p95:0.##} and mean {mean:0.##}; the warning moves from {current:0.##} to {step:0.##}, " +
                                $"toward {target:0.##}, so that it warns before the host saturates.",
                    Evidence =
                    [
                        new TuningEvidence("saturation_raises", saturation.Count, saturation.Count, window),
                        new TuningEvidence($"{metric}_raises", 0, samples, window),
                        new TuningEvidence($"{metric}_p95", p95, samples, TuningText.Window(host.Summary.Window)),
                        new TuningEvidence($"{metric}_mean", mean, samples, TuningText.Window(host.Summary.Window)),
                    ],
                    // Kept while the tightened warning fires no more often than the host saturates.
                    EvaluationMetric = $"alert_raises_per_hour:{metric}@{host.Node}",
                    Baseline = saturation.Count / lookback.TotalHours,
                };
            }
        }
    }
}
