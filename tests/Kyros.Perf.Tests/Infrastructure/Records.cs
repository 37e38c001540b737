using Kyros.Perf.Stats;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>Builds records for tests: valid by default, changed with <c>with</c>.</summary>
public static class Records
{
    public static ModelPerformanceRecord Valid(string model = "gpt-4", double seconds = 1.0, DateTimeOffset? at = null, string? requestId = null) => new(
        Model: model,
        Instance: $"{model}-instance-1",
        Timestamp: at ?? DateTimeOffset.UtcNow,
        ExecutionTime: seconds,
        TimeToFirstToken: seconds / 4,
        InputTokens: 100,
        OutputTokens: 200,
        Success: true,
        ErrorKind: null,
        Cost: 0.03,
        QualityScore: 0.9,
        RequestId: requestId ?? $"req-{Guid.NewGuid():N}");

    /// <summary>Latencies from a log-normal distribution (median 1 s), seeded.</summary>
    public static double[] LogNormalSeconds(int count, int seed, double median = 1.0, double sigma = 0.8)
    {
        var random = new Random(seed);
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            values[i] = median * Math.Exp(sigma * gaussian);
        }
        return values;
    }

    /// <summary>The element at rank q·(n−1), the convention the sketch answers for.</summary>
    public static double ExactQuantile(double[] values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[(int)Math.Floor(q * (sorted.Length - 1))];
    }
}
