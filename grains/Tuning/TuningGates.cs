namespace Kyros.Perf.Tuning;

/// <summary>Which proposals the tuner applies on its own: those that pass both gates, best first, while slots are free.</summary>
public static class TuningGates
{
    /// <summary>Actions that change something (a report changes nothing, so it is never applied).</summary>
    public static bool IsApplicable(string action) => action is "raise_threshold" or "set_weights" or "set_timeout" or "shift_traffic";

    public static bool Passes(TuningRecommendation r, TuningConfiguration c) =>
        IsApplicable(r.Action) && r.Confidence >= c.ConfidenceThreshold && r.ExpectedImpact >= c.ImpactThreshold;

    /// <summary>
    /// The proposed recommendations to apply now: none unless <see cref="TuningConfiguration.AutoApply"/>; at most
    /// <see cref="TuningConfiguration.MaxConcurrentTunings"/> under evaluation in all; one per target.
    /// </summary>
    public static IReadOnlyList<TuningRecommendation> Choose(IEnumerable<TuningRecommendation> proposed, IReadOnlyCollection<TuningRecommendation> underEvaluation,
        TuningConfiguration c)
    {
        if (!c.AutoApply) return [];
        var busy = underEvaluation.Select(r => r.Target).ToHashSet(StringComparer.Ordinal);
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
}
