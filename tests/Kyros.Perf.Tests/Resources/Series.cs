using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Resources;

/// <summary>Labelled synthetic series and samples built from them, reproducible from a seed.</summary>
public static class Series
{
    public static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    public static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    public static (DateTimeOffset At, double Value)[] Of(IEnumerable<double> values) =>
        values.Select((v, i) => (Start + i * Step, v)).ToArray();

    public static double[] FlatNoise(int n, int seed, double level = 40, double noise = 2)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => level + Gaussian(random) * noise).ToArray();
    }

    /// <summary>A line rising <paramref name="perMinute"/> a minute with noise.</summary>
    public static double[] Ramp(int n, int seed, double from, double perMinute, double noise = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(i => from + perMinute * (i * Step.TotalMinutes) + Gaussian(random) * noise).ToArray();
    }

    public static double[] Sine(int n, int seed, int periodSamples, double amplitude = 20, double level = 50, double noise = 2)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, n).Select(i => level + amplitude * Math.Sin(2 * Math.PI * i / periodSamples) + Gaussian(random) * noise).ToArray();
    }

    public static ResourceSample Cpu(string node, int index, double cpu) => new() { Node = node, Timestamp = Start + index * Step, CpuPercent = cpu };

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
