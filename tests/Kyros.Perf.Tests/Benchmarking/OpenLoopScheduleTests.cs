using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>The open-loop arrival schedule: Poisson in count and gaps, ramped, and the same for the same seed.</summary>
public sealed class OpenLoopScheduleTests
{
    [Fact]
    public void Arrivals_over_a_long_duration_are_poisson_at_the_target_rate()
    {
        var load = new BenchmarkLoad(TargetRps: 50, DurationSeconds: 400);

        var arrivals = OpenLoopSchedule.Arrivals(load, seed: 11);

        // A Poisson count has variance equal to its mean.
        var expected = 50 * 400.0;
        Assert.InRange(arrivals.Length, expected - 4 * Math.Sqrt(expected), expected + 4 * Math.Sqrt(expected));
        Assert.True(arrivals[0] >= 0 && arrivals[^1] < 400, $"from {arrivals[0]} to {arrivals[^1]}");
        for (var i = 1; i < arrivals.Length; i++) Assert.True(arrivals[i] >= arrivals[i - 1], $"arrival {i} goes back in time");
        var meanGap = (arrivals[^1] - arrivals[0]) / (arrivals.Length - 1);
        Assert.InRange(meanGap, 0.97 / 50, 1.03 / 50);
        // Exponential gaps: their standard deviation equals their mean.
        var gaps = arrivals.Zip(arrivals.Skip(1), (a, b) => b - a).ToArray();
        var sd = Math.Sqrt(gaps.Select(g => (g - meanGap) * (g - meanGap)).Average());
        Assert.InRange(sd / meanGap, 0.95, 1.05);
    }

    [Fact]
    public void A_ramp_climbs_in_equal_steps_of_the_duration()
    {
        var load = new BenchmarkLoad(TargetRps: 40, DurationSeconds: 100, RampSteps: 4);

        var arrivals = OpenLoopSchedule.Arrivals(load, seed: 3);

        // Steps of 25 s at 10, 20, 30 and 40 requests/s: 250, 500, 750 and 1000 expected.
        var counts = Enumerable.Range(0, 4).Select(k => arrivals.Count(t => t >= 25 * k && t < 25 * (k + 1))).ToArray();
        for (var k = 0; k < 4; k++)
        {
            var expected = 25 * 40.0 * (k + 1) / 4;
            Assert.InRange(counts[k], expected - 4 * Math.Sqrt(expected), expected + 4 * Math.Sqrt(expected));
            if (k > 0) Assert.True(counts[k] > counts[k - 1], $"step {k + 1} has {counts[k]} arrivals, step {k} {counts[k - 1]}");
        }
        Assert.Equal(arrivals.Length, counts.Sum());
        Assert.Equal(2500, BenchmarkValidator.ExpectedArrivals(load));
    }

    [Fact]
    public void The_same_seed_gives_the_same_schedule_and_another_seed_another()
    {
        var load = new BenchmarkLoad(TargetRps: 20, DurationSeconds: 30, RampSteps: 3);

        var first = OpenLoopSchedule.Arrivals(load, seed: 5);

        Assert.Equal(first, OpenLoopSchedule.Arrivals(load, seed: 5));
        Assert.NotEqual(first, OpenLoopSchedule.Arrivals(load, seed: 6));
    }
}
