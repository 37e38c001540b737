using Kyros.Perf.Resources;

namespace Kyros.Perf.Tuning;

/// <summary>
/// The metrics applied changes are judged by, measured from a cycle's inputs since a time, and the judgment itself:
/// a change is rolled back when its metric got worse than its baseline by more than the safety margin.
/// </summary>
public static class TuningMeasures
{
    /// <summary>Absolute slack for rates that start at 0, where any rise is "infinitely" worse.</summary>
    public const double RateSlack = 0.005;

    /// <summary>The metric's value over [since, now]; null when the inputs cannot tell (no data, or a metric this build does not know).</summary>
    public static double? Measure(string metric, TuningInputs inputs, DateTimeOffset since, Func<TuningInputs, double?>? objective = null)
    {
        var (kind, target) = metric.IndexOf(':') is var i and >= 0 ? (metric[..i], metric[(i + 1)..]) : (metric, "");
        switch (kind)
        {
            case "alert_raises_per_hour":
                var at = target.IndexOf('@');
                if (at < 0) return null;
                var (name, node) = (target[..at], target[(at + 1)..]);
                var hours = Math.Max((inputs.Now - since).TotalHours, 1 / 60.0);
                return inputs.Alerts.Count(e => e.Node == node && e.Metric == name && e.Kind == AlertEventKind.Raised && e.Level >= AlertLevel.Warning
                                                && e.Timestamp >= since) / hours;
            case "model_alert_raises_per_hour":
                return ModelAlertRuleRule.RaisesPerHour(inputs, target, since);
            case "timeout_rate":
                var minutes = inputs.Models.FirstOrDefault(m => m.Model.Id == target)?.Minutes.Where(m => m.Start >= since.AddMinutes(-1)).ToList();
                if (minutes is null) return null;
                var count = minutes.Sum(m => m.Count);
                return count == 0 ? null : (double)minutes.Sum(m => m.Timeouts) / count;
            case "cluster_latency_p50":
                return ClusterLatency(inputs, since);
            case "adaptive_objective":
                return objective?.Invoke(inputs);
            default:
                return null;
        }
    }

    /// <summary>Every model's minutes since a time: the request-weighted mean of their median latencies.</summary>
    public static double? ClusterLatency(TuningInputs inputs, DateTimeOffset since)
    {
        double sum = 0;
        long count = 0;
        foreach (var m in inputs.Models)
        foreach (var minute in m.Minutes)
        {
            if (minute.Start < since.AddMinutes(-1) || minute.LatencyP50 is not { } p50) continue;
            sum += p50 * minute.Count;
            count += minute.Count;
        }
        return count == 0 ? null : sum / count;
    }

    /// <summary>Whether <paramref name="observed"/> is worse than <paramref name="baseline"/> by more than the margin.</summary>
    public static bool IsWorse(double baseline, double observed, bool lowerIsBetter, double safetyMargin) => lowerIsBetter
        ? observed > baseline * (1 + safetyMargin) + RateSlack
        : observed < baseline - Math.Abs(baseline) * safetyMargin - RateSlack;
}
