namespace Kyros.Perf.Resources;

/// <summary>
/// Scale out when a group's mean CPU or GPU use over the recent window (default 10 minutes) is at or above the bound;
/// scale in when over the sustained window (default 1 hour) both stay below the lower bound and the group has a host to spare;
/// otherwise hold. Confidence is the share of the window that has samples, times how clearly the figure passes its bound.
/// </summary>
public static class ScalingAdvisor
{
    /// <summary>A window must be at least this well covered by samples before advice other than hold is given.</summary>
    public const double MinCoverage = 0.8;

    public static IReadOnlyList<ScalingRecommendation> Advise(IReadOnlyList<NodeUsage> usage, ResourceOptions options)
    {
        // A host with no samples in either window has stopped reporting: it says nothing about load.
        usage = usage.Where(u => u.RecentCoverage > 0 || u.LongCoverage > 0).ToArray();
        var result = usage.GroupBy(u => u.Group).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => Advise(g.Key, g.ToArray(), options)).ToList();
        result.Add(Advise("cluster", usage, options));
        return result;
    }

    private static ScalingRecommendation Advise(string scope, IReadOnlyList<NodeUsage> hosts, ResourceOptions o)
    {
        var recentCpu = Mean(hosts.Select(h => h.RecentCpu));
        var recentGpu = Mean(hosts.Select(h => h.RecentGpu));
        var longCpu = Mean(hosts.Select(h => h.LongCpu));
        var longGpu = Mean(hosts.Select(h => h.LongGpu));
        var recentCoverage = hosts.Count == 0 ? 0 : hosts.Average(h => h.RecentCoverage);
        var longCoverage = hosts.Count == 0 ? 0 : hosts.Average(h => h.LongCoverage);
        var recentPeak = Max(recentCpu, recentGpu);
        var longPeak = Max(longCpu, longGpu);
        var recentText = $"mean CPU {Text(recentCpu)}, GPU {Text(recentGpu)} over the last {o.ScaleOutWindow.TotalMinutes:0} min";
        var longText = $"mean CPU {Text(longCpu)}, GPU {Text(longGpu)} over the last {o.ScaleInWindow.TotalMinutes:0} min";

        ScalingRecommendation Make(ScalingAction action, double confidence, string reason) => new()
        {
            Scope = scope,
            Action = action,
            Confidence = Math.Round(Math.Clamp(confidence, 0, 1), 3),
            Reason = reason,
            Hosts = hosts.Count,
            RecentCpu = recentCpu,
            RecentGpu = recentGpu,
            LongCpu = longCpu,
            LongGpu = longGpu,
        };

        if (recentPeak is { } busy && busy >= o.ScaleOutAbove && recentCoverage >= MinCoverage)
            return Make(ScalingAction.ScaleOut, recentCoverage * Math.Min(1, 0.6 + (busy - o.ScaleOutAbove) / Math.Max(1, 100 - o.ScaleOutAbove)),
                $"{recentText}: at or above {o.ScaleOutAbove:0}% across {hosts.Count} host(s).");
        if (longPeak is { } idle && idle < o.ScaleInBelow && longCoverage >= MinCoverage)
        {
            if (hosts.Count < 2)
                return Make(ScalingAction.Hold, longCoverage * 0.6, $"{longText}: below {o.ScaleInBelow:0}%, but the only host cannot be removed.");
            return Make(ScalingAction.ScaleIn, longCoverage * Math.Min(1, 0.6 + (o.ScaleInBelow - idle) / Math.Max(1, o.ScaleInBelow)),
                $"{longText}: below {o.ScaleInBelow:0}% across {hosts.Count} hosts.");
        }
        if (recentCoverage < MinCoverage && longCoverage < MinCoverage)
            return Make(ScalingAction.Hold, Math.Max(recentCoverage, longCoverage),
                $"Not enough samples: {recentCoverage * 100:0}% of the last {o.ScaleOutWindow.TotalMinutes:0} min covered.");
        var headroom = Math.Min(o.ScaleOutAbove - (recentPeak ?? 0), (longPeak ?? o.ScaleOutAbove) - o.ScaleInBelow);
        return Make(ScalingAction.Hold, Math.Max(recentCoverage, longCoverage) * Math.Min(1, 0.5 + headroom / Math.Max(1, o.ScaleOutAbove - o.ScaleInBelow)),
            $"{recentText}; {longText}: between {o.ScaleInBelow:0}% and {o.ScaleOutAbove:0}%.");
    }

    private static double? Mean(IEnumerable<double?> values) =>
        values.Where(v => v is not null).Select(v => v!.Value).DefaultIfEmpty(double.NaN).Average() is var m && double.IsNaN(m) ? null : Math.Round(m, 3);

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static string Text(double? percent) => percent is { } p ? $"{p:0.#}%" : "n/a";
}
