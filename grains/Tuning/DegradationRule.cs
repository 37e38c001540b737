using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Tuning;

/// <summary>
/// A model that degrades: latency that creeps up (a significant trend over the lookback's minutes, not one bad minute),
/// an error rate that jumps, quality that drops, or a cost per request that rises. Latency and errors shift traffic away
/// (a routing penalty, one learning-rate step per cycle); quality and cost are reported. Every finding says what changed,
/// from what to what, over which windows.
/// </summary>
public static class DegradationRule
{
    public static readonly TimeSpan Recent = TimeSpan.FromMinutes(10);
    public const int MinRequestsPerMinute = 3;
    public const int MinTrendMinutes = 8;
    /// <summary>How strong the evidence must be: a trend's t statistic, or a change's z score.</summary>
    public const double Significance = 3;
    public const double MinErrorJump = 0.05;
    public const double MinQualityDrop = 0.1;
    public const double MinCostRise = 0.3;
    public const double MaxPenalty = 0.9;

    public static IEnumerable<TuningProposal> Propose(TuningInputs inputs)
    {
        var c = inputs.Configuration;
        var lookback = TuningText.Window(TuningInputs.Lookback(c));
        // The whole cluster's figure, the same for every proposal: computed once, and only if something degrades.
        var clusterLatency = new Lazy<double?>(() => TuningMeasures.ClusterLatency(inputs, inputs.Now - TuningInputs.Lookback(c)));
        foreach (var m in inputs.Models)
        {
            var id = m.Model.Id;
            var split = inputs.Now - Recent;
            var before = Totals.Of(m.Minutes.Where(x => x.Start < split));
            var recent = Totals.Of(m.Minutes.Where(x => x.Start >= split));

            var shift = new List<(string What, double Confidence, double Impact, TuningEvidence[] Evidence)>();
            if (LatencyTrend(m.Minutes) is { } trend && trend.T >= Significance && trend.Relative >= c.SafetyMargin)
                shift.Add(($"its median latency climbed from {trend.From:0.###} s to {trend.To:0.###} s over {trend.Points} minutes (t = {trend.T:0.0})",
                    Math.Min(1, trend.T / (2 * Significance)) * trend.Points / (trend.Points + 5.0), Math.Min(1, trend.Relative),
                    [new("latency_p50_from_seconds", trend.From, trend.Points, lookback), new("latency_p50_to_seconds", trend.To, trend.Points, lookback),
                     new("latency_trend_t", trend.T, trend.Points, lookback)]));
            if (ErrorJump(before, recent) is { } errors && errors.Z >= Significance && errors.Recent - errors.Before >= MinErrorJump)
                shift.Add(($"its error rate jumped from {errors.Before:P1} to {errors.Recent:P1} (z = {errors.Z:0.0})",
                    Math.Min(1, errors.Z / (2 * Significance)), Math.Min(1, (errors.Recent - errors.Before) / errors.Recent),
                    [new("error_rate_before", errors.Before, before.Count, lookback), new("error_rate_recent", errors.Recent, recent.Count, "10m")]));

            if (shift.Count > 0)
            {
                var what = string.Join("; ", shift.Select(s => s.What));
                var cooling = m.Health != ModelHealth.Healthy;
                var penalty = Math.Round(Math.Min(MaxPenalty, m.Penalty + c.LearningRate), 3);
                if (!cooling && penalty <= m.Penalty) continue;
                yield return new TuningProposal
                {
                    Rule = "degradation",
                    Action = cooling ? "report" : "shift_traffic",
                    Target = $"model:{id}",
                    CurrentValue = cooling ? null : m.Penalty,
                    RecommendedValue = cooling ? null : penalty,
                    Confidence = Math.Round(shift.Max(s => s.Confidence), 3),
                    ExpectedImpact = Math.Round(shift.Max(s => s.Impact), 3),
                    Reasoning = cooling
                        ? $"{id} is degrading: {what}. The router is already cooling it down, so nothing more is shifted."
                        : $"{id} is degrading: {what}. Its routing penalty moves from {m.Penalty:0.##} to {penalty:0.##}, shifting traffic to other models.",
                    Evidence = [.. shift.SelectMany(s => s.Evidence)],
                    EvaluationMetric = cooling ? null : "cluster_latency_p50",
                    Baseline = cooling ? null : clusterLatency.Value,
                };
            }

            var reports = new List<(string What, double Confidence, double Impact, TuningEvidence[] Evidence)>();
            if (before.QualityCount >= 10 && recent.QualityCount >= 10)
            {
                var drop = before.Quality - recent.Quality;
                // Scores lie in 0-1, so their variance is at most 1/4: a conservative z.
                var z = drop / Math.Sqrt(0.25 / before.QualityCount + 0.25 / recent.QualityCount);
                if (drop >= MinQualityDrop && z >= Significance)
                    reports.Add(($"its quality fell from {before.Quality:0.###} to {recent.Quality:0.###} (z = {z:0.0})", Math.Min(1, z / (2 * Significance)), Math.Min(1, drop),
                        [new("quality_before", before.Quality, before.QualityCount, lookback), new("quality_recent", recent.Quality, recent.QualityCount, "10m")]));
            }
            if (before.Count >= 20 && recent.Count >= 20 && before.CostPerRequest > 0)
            {
                var rise = recent.CostPerRequest / before.CostPerRequest - 1;
                if (rise >= MinCostRise)
                    reports.Add(($"its cost per request rose from {before.CostPerRequest:0.######} to {recent.CostPerRequest:0.######}",
                        Math.Min(1, recent.Count / (recent.Count + 20.0)), Math.Min(1, rise),
                        [new("cost_per_request_before", before.CostPerRequest, before.Count, lookback), new("cost_per_request_recent", recent.CostPerRequest, recent.Count, "10m")]));
            }
            if (reports.Count > 0)
                yield return new TuningProposal
                {
                    Rule = "degradation",
                    Action = "report",
                    Target = $"model:{id}",
                    Confidence = Math.Round(reports.Max(r => r.Confidence), 3),
                    ExpectedImpact = Math.Round(reports.Max(r => r.Impact), 3),
                    Reasoning = $"{id} is degrading: {string.Join("; ", reports.Select(r => r.What))}. Reported for a person to judge.",
                    Evidence = [.. reports.SelectMany(r => r.Evidence)],
                };
        }
    }

    /// <summary>The least-squares line through the minutes' median latencies (minutes with enough requests).</summary>
    public static (double From, double To, double Relative, double T, int Points)? LatencyTrend(IReadOnlyList<ModelMinute> minutes)
    {
        var points = minutes.Where(m => m.Count >= MinRequestsPerMinute && m.LatencyP50 is not null)
            .Select(m => (X: m.Start.ToUnixTimeSeconds() / 60.0, Y: m.LatencyP50!.Value)).ToList();
        var n = points.Count;
        if (n < MinTrendMinutes) return null;
        var mx = points.Average(p => p.X);
        var my = points.Average(p => p.Y);
        var sxx = points.Sum(p => (p.X - mx) * (p.X - mx));
        if (sxx <= 0) return null;
        var slope = points.Sum(p => (p.X - mx) * (p.Y - my)) / sxx;
        var residual = points.Sum(p => Math.Pow(p.Y - (my + slope * (p.X - mx)), 2));
        var se = Math.Sqrt(residual / (n - 2) / sxx);
        var t = se == 0 ? (slope > 0 ? double.PositiveInfinity : 0) : slope / se;
        var from = my + slope * (points[0].X - mx);
        var to = my + slope * (points[^1].X - mx);
        if (from <= 0) return null;
        return (from, to, to / from - 1, Math.Min(t, 1e6), n);
    }

    private static (double Before, double Recent, double Z)? ErrorJump(Totals before, Totals recent)
    {
        if (before.Count < 20 || recent.Count < 20) return null;
        var p1 = before.ErrorRate;
        var p2 = recent.ErrorRate;
        var pooled = (before.Errors + recent.Errors) / (double)(before.Count + recent.Count);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / before.Count + 1.0 / recent.Count));
        return (p1, p2, se == 0 ? 0 : (p2 - p1) / se);
    }

    /// <summary>Sums over minutes.</summary>
    internal readonly record struct Totals(long Count, long Errors, double QualitySum, long QualityCount, double Cost)
    {
        public double ErrorRate => Count == 0 ? 0 : (double)Errors / Count;
        public double Quality => QualityCount == 0 ? 0 : QualitySum / QualityCount;
        public double CostPerRequest => Count == 0 ? 0 : Cost / Count;

        public static Totals Of(IEnumerable<ModelMinute> minutes)
        {
            long count = 0, errors = 0, qualityCount = 0;
            double quality = 0, cost = 0;
            foreach (var m in minutes)
            {
                count += m.Count;
                errors += m.Count - m.Successes;
                quality += m.QualitySum;
                qualityCount += m.QualityCount;
                cost += m.CostTotal;
            }
            return new Totals(count, errors, quality, qualityCount, cost);
        }
    }
}
