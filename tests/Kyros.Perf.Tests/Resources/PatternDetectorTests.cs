using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Resources;

public sealed class PatternDetectorTests
{
    private static readonly ResourceOptions O = new();
    private static readonly double[] CpuLevels = [70, 85, 95];

    private static PatternDetection?[] All(double[] values)
    {
        var points = Series.Of(values);
        return
        [
            PatternDetector.Spike("cpu", points, O.SpikeZScore),
            PatternDetector.GradualIncrease("cpu", points, O.TrendTStatistic, O.TrendMinRSquared, CpuLevels),
            PatternDetector.Cycle("cpu", points, O.CycleMinAutocorrelation),
        ];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Flat_noise_has_no_spike_no_increase_and_no_cycle(int seed)
    {
        Assert.All(All(Series.FlatNoise(720, seed)), Assert.Null);
    }

    [Fact]
    public void A_spike_is_found_on_the_spiking_sample_and_only_there()
    {
        var values = Series.FlatNoise(200, seed: 11).Append(75).ToArray();
        var spike = All(values)[0];
        Assert.NotNull(spike);
        Assert.Equal(PatternKind.Spike, spike.Kind);
        Assert.True(spike.ZScore > 10, $"z {spike.ZScore}");
        Assert.Equal(75, spike.Value);
        Assert.InRange(spike.Confidence, 0.5, 1);
        Assert.Null(All(values)[1]);
        Assert.Null(All(values)[2]);

        // The sample before the spike was not one.
        Assert.Null(PatternDetector.Spike("cpu", Series.Of(values[..^1]), O.SpikeZScore));
    }

    [Fact]
    public void A_ramp_is_an_increase_with_its_slope_and_the_time_it_will_cross_the_next_threshold()
    {
        // 30 -> 60 over an hour: 0.5 points a minute; the warning (70) is 20 minutes after the last sample.
        var values = Series.Ramp(720, seed: 3, from: 30, perMinute: 0.5);
        var found = All(values);
        var ramp = found[1];
        Assert.NotNull(ramp);
        Assert.Equal(0.5, ramp.SlopePerMinute!.Value, 0.02);
        Assert.Equal(70, ramp.ForecastThreshold);
        var expected = Series.Start + 719 * Series.Step + TimeSpan.FromMinutes(20);
        Assert.InRange(ramp.ForecastCrossingAt!.Value, expected - TimeSpan.FromMinutes(2), expected + TimeSpan.FromMinutes(2));
        Assert.True(ramp.Confidence > 0.9);
        Assert.Null(found[0]);
        Assert.Null(found[2]);
    }

    [Fact]
    public void A_sine_with_noise_is_a_cycle_with_its_period_and_not_an_increase()
    {
        // A period of 60 samples of 5 s: 5 minutes.
        var found = All(Series.Sine(720, seed: 5, periodSamples: 60));
        var cycle = found[2];
        Assert.NotNull(cycle);
        Assert.Equal(TimeSpan.FromMinutes(5).TotalSeconds, cycle.Period!.Value.TotalSeconds, 10);
        Assert.True(cycle.Confidence > 0.7);
        Assert.Null(found[1]);
    }
}
