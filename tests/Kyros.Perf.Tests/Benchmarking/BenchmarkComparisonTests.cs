using System.Diagnostics;
using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>Runs compared with seeded synthetic samples: the bootstrap flags real changes, not the noise of a repeat.</summary>
public sealed class BenchmarkComparisonTests
{
    /// <summary>
    /// A cell's samples: log-normal latency around <paramref name="latency"/> seconds, the first token after a fifth of it,
    /// 100 output tokens decoded in the rest stretched by <paramref name="decodeSlowdown"/>, and a share of failures.
    /// </summary>
    private static List<BenchmarkSample> Samples(int seed, int count, double latency = 1.0, double decodeSlowdown = 1, double errorRate = 0.02,
        string model = "alpha", int concurrency = 4)
    {
        var random = new Random(seed);
        var samples = new List<BenchmarkSample>(count);
        for (var i = 0; i < count; i++)
        {
            var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var total = latency * Math.Exp(0.3 * normal);
            var ttft = total / 5;
            var failed = random.NextDouble() < errorRate;
            samples.Add(new BenchmarkSample(model, "concurrency", concurrency, i % 10, i, 0, ttft + (total - ttft) * decodeSlowdown, ttft, 20, 100, !failed,
                failed ? "timeout" : null, 0.001, null));
        }
        return samples;
    }

    private static BenchmarkTrend Find(IEnumerable<BenchmarkTrend> trends, string metric) => Assert.Single(trends, t => t.Metric == metric);

    [Fact]
    public void A_thirty_percent_latency_increase_is_a_regression_on_p50_and_p95()
    {
        var baseline = Samples(seed: 1, count: 1500);
        var current = Samples(seed: 2, count: 1500, latency: 1.3);

        var trends = BenchmarkComparison.Compare(current, baseline, seed: 9);

        foreach (var metric in new[] { BenchmarkComparison.LatencyP50, BenchmarkComparison.LatencyP95 })
        {
            var t = Find(trends, metric);
            Assert.True(t.Regression, $"{metric}: {t}");
            Assert.True(t.Significant);
            Assert.InRange(t.Change, 0.2, 0.4);
            Assert.True(t.ChangeLow > 0 && t.ChangeLow <= t.Change && t.Change <= t.ChangeHigh, $"{metric}: {t}");
            Assert.Equal((t.Current - t.Baseline) / t.Baseline, t.Change, 12);
            Assert.Equal(BenchmarkComparison.Measure(metric, current), t.Current);
        }
        Assert.Equal(("alpha", "concurrency", 4), (trends[0].Model, trends[0].Mode, trends[0].Concurrency));
        Assert.InRange(Find(trends, BenchmarkComparison.LatencyP50).CurrentSamples, 1400, 1500);
    }

    [Fact]
    public void A_repeat_drawn_from_the_same_distribution_is_not_a_regression()
    {
        var baseline = Samples(seed: 1, count: 1500);
        var repeat = Samples(seed: 3, count: 1500);

        var trends = BenchmarkComparison.Compare(repeat, baseline, seed: 9);

        Assert.Equal(BenchmarkComparison.Metrics, trends.Select(t => t.Metric));
        Assert.All(trends, t => Assert.False(t.Regression, t.ToString()));
        // Errors are rare (2 %), so their relative change is noisy; the other figures barely move.
        Assert.All(trends.Where(t => t.Metric != BenchmarkComparison.ErrorRate), t => Assert.InRange(Math.Abs(t.Change), 0, 0.1));
    }

    [Fact]
    public void Slower_decoding_is_a_regression_of_tokens_per_second_and_faster_is_not()
    {
        var baseline = Samples(seed: 1, count: 1000);

        var slower = Find(BenchmarkComparison.Compare(Samples(seed: 4, count: 1000, decodeSlowdown: 1.5), baseline, seed: 9),
            BenchmarkComparison.TokensPerSecond);
        var faster = Find(BenchmarkComparison.Compare(Samples(seed: 4, count: 1000, decodeSlowdown: 0.7), baseline, seed: 9),
            BenchmarkComparison.TokensPerSecond);

        Assert.True(slower.Regression, slower.ToString());
        Assert.True(slower.Change < -0.2 && slower.ChangeHigh < 0, slower.ToString());
        Assert.True(faster.Significant && faster.Change > 0.2, faster.ToString());
        Assert.False(faster.Regression, faster.ToString());
        Assert.False(BenchmarkComparison.LowerIsBetter(BenchmarkComparison.TokensPerSecond));
        Assert.True(BenchmarkComparison.LowerIsBetter(BenchmarkComparison.LatencyP95));
    }

    [Fact]
    public void An_error_rate_from_zero_is_compared_by_the_absolute_difference()
    {
        var baseline = Samples(seed: 1, count: 500, errorRate: 0);
        var current = Samples(seed: 2, count: 500, errorRate: 0.2);

        var errors = Find(BenchmarkComparison.Compare(current, baseline, seed: 9), BenchmarkComparison.ErrorRate);

        Assert.Equal(0, errors.Baseline);
        Assert.Equal(errors.Current, errors.Change, 12);
        Assert.True(errors.Regression, errors.ToString());
        Assert.InRange(errors.ChangeLow, 0.1, errors.Change);
    }

    [Fact]
    public void Cells_pair_up_by_model_mode_and_level_and_filters_do_not_change_the_figures()
    {
        List<BenchmarkSample> baseline = [.. Samples(1, 300), .. Samples(2, 300, model: "beta"), .. Samples(3, 300, concurrency: 8)];
        List<BenchmarkSample> current = [.. Samples(4, 300, latency: 1.3), .. Samples(5, 300, model: "beta"), .. Samples(6, 300, model: "gamma")];

        var all = BenchmarkComparison.Compare(current, baseline, seed: 9);

        // alpha@8 has no current samples and gamma no baseline: only alpha@4 and beta@4 compare.
        Assert.Equal(["alpha", "beta"], all.Select(t => t.Model).Distinct());
        Assert.Equal(2 * BenchmarkComparison.Metrics.Count, all.Length);
        var one = Assert.Single(BenchmarkComparison.Compare(current, baseline, seed: 9, model: "alpha", metric: BenchmarkComparison.LatencyP95));
        Assert.Equal(all.Single(t => t.Model == "alpha" && t.Metric == BenchmarkComparison.LatencyP95), one);
        Assert.Equal(all, BenchmarkComparison.Compare(current, baseline, seed: 9));
        Assert.Empty(BenchmarkComparison.Compare(current, baseline, seed: 9, metric: "nonsense"));
    }

    [Fact]
    public void Points_give_every_measurable_metric_per_cell_and_unmeasurable_ones_are_skipped()
    {
        var at = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        List<BenchmarkSample> samples = [.. Samples(1, 50), .. Samples(2, 20, model: "beta", errorRate: 1)];

        var points = BenchmarkComparison.Points("bench-1", at, samples);

        Assert.Equal(BenchmarkComparison.Metrics, points.Where(p => p.Model == "alpha").Select(p => p.Metric));
        // All of beta's requests failed: only its error rate can be measured.
        var beta = Assert.Single(points, p => p.Model == "beta");
        Assert.Equal((BenchmarkComparison.ErrorRate, 1.0), (beta.Metric, beta.Value));
        Assert.All(points, p => Assert.Equal(("bench-1", at), (p.Run, p.At)));
        Assert.Null(BenchmarkComparison.Measure(BenchmarkComparison.LatencyP50, []));
        Assert.Null(BenchmarkComparison.Measure("nonsense", samples));
    }
}
