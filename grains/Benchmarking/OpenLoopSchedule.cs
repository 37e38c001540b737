namespace Kyros.Perf.Benchmarking;

/// <summary>
/// When an open-loop load test sends: a Poisson process, so that requests arrive independently of how fast the model
/// answers (a closed loop slows its own arrivals when the model slows, and hides queueing). Seeded, so that every model
/// of a run, and every run of a configuration, gets the same schedule.
/// </summary>
public static class OpenLoopSchedule
{
    /// <summary>
    /// Ascending offsets in seconds within [0, duration) at which requests are due: <see cref="BenchmarkLoad.RampSteps"/>
    /// equal parts of the duration, part k (1-based) at TargetRps × k / RampSteps, with exponential gaps drawn from
    /// <c>new Random(seed)</c>. The same load and seed give the same schedule.
    /// </summary>
    public static double[] Arrivals(BenchmarkLoad load, int seed)
    {
        ArgumentNullException.ThrowIfNull(load);
        if (!double.IsFinite(load.TargetRps) || load.TargetRps <= 0) throw new ArgumentOutOfRangeException(nameof(load), load.TargetRps, "target_rps must be above 0.");
        if (!double.IsFinite(load.DurationSeconds) || load.DurationSeconds <= 0)
            throw new ArgumentOutOfRangeException(nameof(load), load.DurationSeconds, "duration_seconds must be above 0.");
        if (load.RampSteps < 1) throw new ArgumentOutOfRangeException(nameof(load), load.RampSteps, "ramp_steps must be at least 1.");

        var random = new Random(seed);
        var expected = BenchmarkValidator.ExpectedArrivals(load);
        var arrivals = new List<double>((int)Math.Min(1 << 20, expected + 4 * Math.Sqrt(expected) + 16));
        for (var k = 1; k <= load.RampSteps; k++)
        {
            var start = load.DurationSeconds * (k - 1) / load.RampSteps;
            var end = load.DurationSeconds * k / load.RampSteps;
            var rate = load.TargetRps * k / load.RampSteps;
            // The process is memoryless, so starting each step afresh at its boundary keeps it Poisson at the step's rate.
            for (var t = start + Gap(random, rate); t < end; t += Gap(random, rate)) arrivals.Add(t);
        }
        return [.. arrivals];
    }

    /// <summary>An exponential gap by inversion; 1 − U lies in (0, 1], so the logarithm is finite.</summary>
    private static double Gap(Random random, double rate) => -Math.Log(1 - random.NextDouble()) / rate;
}
