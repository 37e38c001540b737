using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>A cell's figures from raw samples, and the knee of a concurrency sweep: plain functions, no cluster.</summary>
public sealed class BenchmarkStatisticsTests
{
    private static BenchmarkSample Sample(double latency, double? ttft = null, int outputTokens = 10, bool success = true, string? errorKind = null,
        double cost = 0, double? quality = null, double sendDelay = 0) =>
        new("m", "concurrency", 1, 0, 0, sendDelay, latency, ttft, 5, outputTokens, success, errorKind, cost, quality);

    private static BenchmarkResult Level(int concurrency, double rps, double p50) =>
        new()
        {
            Model = "m", Mode = "concurrency", Concurrency = concurrency, Requests = 100, Successes = 100,
            Latency = new BenchmarkDistribution(100, p50, p50, p50, p50, p50, p50), Ttft = BenchmarkDistribution.Empty,
            InterTokenLatency = BenchmarkDistribution.Empty, OutputTokensPerSecond = 0, TotalOutputTokensPerSecond = 0, RequestsPerSecond = rps,
            CostTotal = 0, CostPerRequest = 0, Goodput = 1, WallSeconds = 100 / rps,
        };

    /// <summary>Type 7 from its definition, 1-based as Hyndman and Fan write it: h = (n − 1)q + 1, between x⌊h⌋ and x⌊h⌋+1.</summary>
    private static double BruteForce(IEnumerable<double> values, double q)
    {
        var x = values.OrderBy(v => v).ToList();
        var h = (x.Count - 1) * q + 1;
        var below = x[(int)Math.Floor(h) - 1];
        var above = x[Math.Min((int)Math.Floor(h), x.Count - 1)];
        return below + (h - Math.Floor(h)) * (above - below);
    }

    [Fact]
    public void Percentiles_interpolate_between_closest_ranks_as_numpy_does()
    {
        double[] oneToHundred = [.. Enumerable.Range(1, 100).Select(i => (double)i)];
        // numpy.percentile(range(1, 101), [50, 95, 99]) = 50.5, 95.05, 99.01
        Assert.Equal(50.5, BenchmarkStatistics.Percentile(oneToHundred, 0.50), 9);
        Assert.Equal(95.05, BenchmarkStatistics.Percentile(oneToHundred, 0.95), 9);
        Assert.Equal(99.01, BenchmarkStatistics.Percentile(oneToHundred, 0.99), 9);
        Assert.Equal(3.7, BenchmarkStatistics.Percentile([1.0, 2, 3, 4], 0.9), 9);
        Assert.Equal(1, BenchmarkStatistics.Percentile([1.0, 2, 3, 4], 0));
        Assert.Equal(4, BenchmarkStatistics.Percentile([1.0, 2, 3, 4], 1));
        Assert.Equal(7, BenchmarkStatistics.Percentile([7.0], 0.99));
        Assert.Throws<ArgumentException>(() => BenchmarkStatistics.Percentile([], 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => BenchmarkStatistics.Percentile([1.0], 1.5));
    }

    [Fact]
    public void The_latency_distribution_is_exact_over_the_successful_requests()
    {
        var random = new Random(7);
        var samples = Enumerable.Range(0, 997).Select(i => Sample(0.05 + random.NextDouble() * random.NextDouble() * 3, success: i % 10 != 0)).ToList();
        var ok = samples.Where(s => s.Success).Select(s => s.Latency).ToList();

        var result = BenchmarkStatistics.Summarize("m", "concurrency", 4, null, samples, 10, new BenchmarkSlo());

        Assert.Equal(ok.Count, result.Latency.Count);
        Assert.Equal(ok.Average(), result.Latency.Mean, 12);
        Assert.Equal(BruteForce(ok, 0.50), result.Latency.P50, 12);
        Assert.Equal(BruteForce(ok, 0.90), result.Latency.P90, 12);
        Assert.Equal(BruteForce(ok, 0.95), result.Latency.P95, 12);
        Assert.Equal(BruteForce(ok, 0.99), result.Latency.P99, 12);
        Assert.Equal(ok.Max(), result.Latency.Max);
        Assert.Equal(BenchmarkDistribution.Empty, BenchmarkStatistics.Distribution([]));
    }

    [Fact]
    public void Goodput_is_the_share_of_all_requests_that_succeeded_within_the_slo()
    {
        BenchmarkSample[] samples =
        [
            Sample(0.8, ttft: 0.2), // meets both
            Sample(0.9, ttft: 0.5), // first token too late
            Sample(1.5, ttft: 0.1), // too slow overall
            Sample(0.2), // no first token time: its latency bounds it, within both
            Sample(0.1, ttft: 0.05, success: false, errorKind: "timeout"), // fast but failed
        ];

        var both = BenchmarkStatistics.Summarize("m", "concurrency", 1, null, samples, 5, new BenchmarkSlo(TtftSeconds: 0.3, LatencySeconds: 1.0));
        var latencyOnly = BenchmarkStatistics.Summarize("m", "concurrency", 1, null, samples, 5, new BenchmarkSlo(LatencySeconds: 1.0));
        var none = BenchmarkStatistics.Summarize("m", "concurrency", 1, null, samples, 5, new BenchmarkSlo());

        Assert.Equal(2 / 5.0, both.Goodput, 12);
        Assert.Equal(3 / 5.0, latencyOnly.Goodput, 12);
        Assert.Equal(4 / 5.0, none.Goodput, 12);
        Assert.Equal(0.2, none.ErrorRate, 12);
    }

    [Fact]
    public void Errors_count_by_kind_and_a_failure_without_one_is_an_error()
    {
        BenchmarkSample[] samples =
        [
            Sample(1), Sample(1, success: false, errorKind: "timeout"), Sample(1, success: false, errorKind: "timeout"),
            Sample(1, success: false, errorKind: "rate_limit"), Sample(1, success: false),
        ];

        var result = BenchmarkStatistics.Summarize("m", "concurrency", 1, null, samples, 1, new BenchmarkSlo());

        Assert.Equal(new Dictionary<string, int> { ["timeout"] = 2, ["rate_limit"] = 1, ["error"] = 1 }, result.Errors);
        Assert.Equal(5, result.Requests);
        Assert.Equal(1, result.Successes);
    }

    [Fact]
    public void Inter_token_latency_and_decode_rate_count_only_the_time_after_the_first_token()
    {
        BenchmarkSample[] samples =
        [
            Sample(2.0, ttft: 0.5, outputTokens: 4), // (2 − 0.5) / 3 = 0.5 s between tokens; 4 / 1.5 tokens/s
            Sample(1.5, ttft: 0.5, outputTokens: 11), // 0.1 s; 11 tokens/s
            Sample(1.0, ttft: 0.4, outputTokens: 1), // one token: no inter-token latency, but 1 / 0.6 tokens/s
            Sample(1.0, outputTokens: 20), // no first token time: neither
            Sample(3.0, ttft: 1.0, outputTokens: 50, success: false, errorKind: "timeout"), // failed: neither
        ];

        var result = BenchmarkStatistics.Summarize("m", "concurrency", 1, null, samples, 10, new BenchmarkSlo());

        Assert.Equal(2, result.InterTokenLatency.Count);
        Assert.Equal(0.3, result.InterTokenLatency.Mean, 12);
        Assert.Equal(0.5, result.InterTokenLatency.Max, 12);
        Assert.Equal((4 / 1.5 + 11 + 1 / 0.6) / 3, result.OutputTokensPerSecond, 12);
        Assert.Equal((4 + 11 + 1 + 20 + 50) / 10.0, result.TotalOutputTokensPerSecond, 12);
        Assert.Equal(0.5, result.RequestsPerSecond, 12);
        Assert.Equal(3, result.Ttft.Count);
    }

    [Fact]
    public void Late_sends_cost_and_quality_are_counted_and_zero_wall_time_divides_by_nothing()
    {
        BenchmarkSample[] samples =
        [
            Sample(1, sendDelay: 0.005, cost: 0.002, quality: 1), Sample(1, sendDelay: 0.02, cost: 0.004, quality: 0),
            Sample(1, sendDelay: 0.5, cost: 0.006), Sample(1, sendDelay: BenchmarkStatistics.LateAfterSeconds),
        ];

        var result = BenchmarkStatistics.Summarize("m", "load", 8, 20, samples, 0, new BenchmarkSlo());

        Assert.Equal(2, result.LateSends);
        Assert.Equal(0.5, result.MaxSendDelay);
        Assert.Equal(0.012, result.CostTotal, 12);
        Assert.Equal(0.003, result.CostPerRequest, 12);
        Assert.Equal(0.5, result.Quality);
        Assert.Equal(2, result.QualityScored);
        Assert.Equal(20, result.TargetRps);
        Assert.Equal(0, result.RequestsPerSecond);
        Assert.Equal(0, result.TotalOutputTokensPerSecond);

        var empty = BenchmarkStatistics.Summarize("m", "load", 8, 20, [], 3, new BenchmarkSlo());
        Assert.Equal(0, empty.Goodput);
        Assert.Null(empty.Quality);
        Assert.Equal(BenchmarkDistribution.Empty, empty.Latency);
    }

    [Fact]
    public void The_knee_is_where_throughput_plateaus_whatever_the_order_of_levels()
    {
        // Throughput doubles to 4 callers, then barely moves while the callers queue.
        BenchmarkResult[] plateau = [Level(16, 43, 0.37), Level(1, 10, 0.1), Level(8, 42, 0.19), Level(2, 20, 0.1), Level(4, 40, 0.1)];

        var knee = BenchmarkStatistics.Knee(plateau);

        Assert.NotNull(knee);
        Assert.Equal(4, knee.Concurrency);
        Assert.Contains("requests per second rose +5%", knee.Reason);
    }

    [Fact]
    public void Linear_growth_has_no_knee_and_a_latency_jump_is_one()
    {
        Assert.Null(BenchmarkStatistics.Knee([.. new[] { 1, 2, 4, 8, 16 }.Select(c => Level(c, 10 * c, 0.1))]));
        Assert.Null(BenchmarkStatistics.Knee([Level(4, 40, 0.1)]));
        Assert.Null(BenchmarkStatistics.Knee([]));

        // Throughput still rises 60 % per doubling (above a quarter of +100 %), but the median latency rises 60 %.
        var knee = BenchmarkStatistics.Knee([Level(1, 10, 0.1), Level(2, 16, 0.125), Level(4, 25.6, 0.2)]);
        Assert.NotNull(knee);
        Assert.Equal(2, knee.Concurrency);
        Assert.Contains("median latency rose +60%", knee.Reason);
    }
}
