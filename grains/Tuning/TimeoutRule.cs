namespace Kyros.Perf.Tuning;

/// <summary>
/// A model's timeout from its observed latency: the last hour's p99 times (1 + safety margin), within a floor and a
/// ceiling, reached in steps of at most the learning rate. Hung calls then fail early without cutting off slow successes.
/// </summary>
public static class TimeoutRule
{
    public const int MinSamples = 50;
    public const double FloorSeconds = 1;
    public const double CeilingSeconds = 600;
    /// <summary>A change smaller than this share of the timeout is not worth proposing.</summary>
    public const double MinChange = 0.05;

    public static IEnumerable<TuningProposal> Propose(TuningInputs inputs)
    {
        var c = inputs.Configuration;
        foreach (var m in inputs.Models)
        {
            var latency = m.LastHour.Latency;
            if (latency.SampleCount < MinSamples || latency.P99 is not { } p99) continue;
            var current = m.TimeoutSeconds;
            var target = Math.Clamp(p99 * (1 + c.SafetyMargin), FloorSeconds, CeilingSeconds);
            if (Math.Abs(target - current) < MinChange * current) continue;
            var step = Math.Round(current + Math.Clamp(target - current, -c.LearningRate * current, c.LearningRate * current), 3);
            var timeouts = m.LastHour.ErrorsByKind.GetValueOrDefault("timeout");
            // Timeouts already cut calls off: shortening further would cut more; lengthening is what helps.
            if (step < current && timeouts > 0.01 * m.LastHour.Count) continue;
            var n = latency.SampleCount;
            yield return new TuningProposal
            {
                Rule = "timeout",
                Action = "set_timeout",
                Target = $"timeout:{m.Model.Id}",
                CurrentValue = current,
                RecommendedValue = step,
                Confidence = Math.Round(n / (n + 50.0), 3),
                ExpectedImpact = Math.Round(Math.Abs(step - current) / current, 3),
                Reasoning = $"{m.Model.Id}'s p99 latency over the last hour is {p99:0.###} s on {n} calls; its timeout moves from {current:0.###} s to " +
                            $"{step:0.###} s, toward {target:0.###} s (p99 + {c.SafetyMargin:P0}, within {FloorSeconds}-{CeilingSeconds} s).",
                Evidence =
                [
                    new TuningEvidence("latency_p99_seconds", p99, n, "1h"),
                    new TuningEvidence("latency_max_seconds", latency.Max ?? 0, n, "1h"),
                    new TuningEvidence("timeouts", timeouts, m.LastHour.Count, "1h"),
                ],
                EvaluationMetric = $"timeout_rate:{m.Model.Id}",
                Baseline = m.LastHour.Count == 0 ? 0 : (double)timeouts / m.LastHour.Count,
            };
        }
    }
}
