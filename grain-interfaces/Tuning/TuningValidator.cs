namespace Kyros.Perf.Tuning;

/// <summary>The tuner's input rules, shared by the SDK, HTTP and start-up: an error names the field in snake_case.</summary>
public static class TuningValidator
{
    public const double MaxIntervalMinutes = 7 * 24 * 60;

    public static void Validate(TuningConfiguration c)
    {
        if (!double.IsFinite(c.TuningIntervalMinutes) || c.TuningIntervalMinutes < 1 || c.TuningIntervalMinutes > MaxIntervalMinutes)
            throw new ArgumentException($"tuning_interval_minutes must be within 1..{MaxIntervalMinutes} (got {c.TuningIntervalMinutes}).", "tuning_interval_minutes");
        Unit(c.ConfidenceThreshold, "confidence_threshold");
        Unit(c.ImpactThreshold, "impact_threshold");
        if (c.MaxConcurrentTunings is < 1 or > 100)
            throw new ArgumentException($"max_concurrent_tunings must be within 1..100 (got {c.MaxConcurrentTunings}).", "max_concurrent_tunings");
        Unit(c.LearningRate, "learning_rate");
        if (c.LearningRate == 0) throw new ArgumentException("learning_rate must be above 0: a step of 0 changes nothing.", "learning_rate");
        Unit(c.SafetyMargin, "safety_margin");
        if (!double.IsFinite(c.EvaluationMinutes) || c.EvaluationMinutes < 1 || c.EvaluationMinutes > MaxIntervalMinutes)
            throw new ArgumentException($"evaluation_minutes must be within 1..{MaxIntervalMinutes} (got {c.EvaluationMinutes}).", "evaluation_minutes");
    }

    public static string RequireId(string? id) =>
        string.IsNullOrWhiteSpace(id) || id.Length > 64 ? throw new ArgumentException("id must name a recommendation.", "id") : id;

    private static void Unit(double value, string field)
    {
        if (!double.IsFinite(value) || value < 0 || value > 1) throw new ArgumentException($"{field} must be within 0..1 (got {value}).", field);
    }
}
