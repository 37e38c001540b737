namespace Kyros.Perf.Tuning;

/// <summary>Which proposals the tuner applies on its own: those that pass both gates, best first, while slots are free.</summary>
public static class TuningGates
{
    /// <summary>Actions that change something (a report changes nothing, so it is never applied).</summary>
    public static bool IsApplicable(string action) =>
        action is "raise_threshold" or "lower_threshold" or ModelAlertRuleRule.Action or "set_weights" or "set_timeout" or "shift_traffic";

    public static bool Passes(TuningRecommendation r, TuningConfiguration c) =>
        IsApplicable(r.Action) && r.Confidence >= c.ConfidenceThreshold && r.ExpectedImpact >= c.ImpactThreshold;

    /// <summary>
    /// The proposed recommendations to apply now: none unless <see cref="TuningConfiguration.AutoApply"/>; at most
    /// <see cref="TuningConfiguration.MaxConcurrentTunings"/> under evaluation in all; one per target; none on a target in
    /// <paramref name="held"/> (one rolled back lately), so that the tuner does not flap between a change and its undoing.
    /// </summary>
    public static IReadOnlyList<TuningRecommendation> Choose(IEnumerable<TuningRecommendation> proposed, IReadOnlyCollection<TuningRecommendation> underEvaluation,
        TuningConfiguration c, IReadOnlySet<string>? held = null)
    {
        if (!c.AutoApply) return [];
        var busy = underEvaluation.Select(r => r.Target).ToHashSet(StringComparer.Ordinal);
        if (held is not null) busy.UnionWith(held);
        var free = c.MaxConcurrentTunings - underEvaluation.Count;
        var chosen = new List<TuningRecommendation>();
        foreach (var r in proposed.Where(r => Passes(r, c)).OrderByDescending(r => r.Confidence * r.ExpectedImpact).ThenBy(r => r.Id, StringComparer.Ordinal))
        {
            if (chosen.Count >= free) break;
            if (!busy.Add(r.Target)) continue;
            chosen.Add(r);
        }
        return chosen;
    }

    /// <summary>
    /// Targets rolled back within the lookback: the evidence that proposed the change is still in the window, so the
    /// tuner would propose it again at once. They stay proposals an operator may apply until fresh data speaks.
    /// </summary>
    public static IReadOnlySet<string> Held(IEnumerable<TuningRecommendation> recommendations, DateTimeOffset now, TuningConfiguration c) =>
        recommendations.Where(r => r.Status == TuningStatus.RolledBack && r.DecidedAt >= now - TuningInputs.Lookback(c))
            .Select(r => r.Target).ToHashSet(StringComparer.Ordinal);
}
