using Kyros.Perf.Benchmarking;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>Runs on a real two-silo cluster (Redis state, SQLite samples) against the simulated provider, through the SDK.</summary>
public sealed class BenchmarkClusterTests(RedisServer redis)
{
    private static BenchmarkConfig Config(int iterations, int[] levels, BenchmarkLoad? load = null) => new()
    {
        ModelTypes = ["gpt-3.5-turbo", "gemini-pro"],
        TestPrompts = [new("Say hello."), new("Name a colour."), new("Count to three.")],
        IterationsPerModel = iterations,
        ConcurrencyLevels = levels,
        MaxTokens = 32,
        Slo = new BenchmarkSlo(TtftSeconds: 0.5, LatencySeconds: 5),
        Seed = 3,
        Load = load,
    };

    /// <summary>Type 7 (linear between closest ranks), computed here without the product's code.</summary>
    private static double Percentile(double[] sorted, double q)
    {
        var rank = q * (sorted.Length - 1);
        var low = (int)Math.Floor(rank);
        var high = Math.Min(low + 1, sorted.Length - 1);
        return sorted[low] + (rank - low) * (sorted[high] - sorted[low]);
    }

    [Fact]
    public async Task Figures_equal_the_raw_samples_runs_queue_a_killed_silo_fails_its_run_and_cancel_keeps_finished_cells()
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis, settings: new Dictionary<string, string?> { ["Kyros:Benchmark:MaxConcurrentRuns"] = "1" });
        var client = cluster.Client;

        // A closed-loop run at two levels: every figure is the raw samples' own.
        var done = await client.RunBenchmarkAsync(Config(20, [1, 4]), poll: TimeSpan.FromMilliseconds(100));
        Assert.Equal(BenchmarkStatus.Completed, done.Status);
        Assert.Equal(4, done.Results.Length);
        Assert.Equal((80, 80), (done.Progress.Completed, done.Progress.Total));
        var samples = await client.GetBenchmarkSamplesAsync(done.Id);
        Assert.Equal(80, samples.Length);
        foreach (var result in done.Results)
        {
            var cell = samples.Where(s => s.Model == result.Model && s.Concurrency == result.Concurrency).ToArray();
            Assert.Equal(20, result.Requests);
            var latencies = cell.Where(s => s.Success).Select(s => s.Latency).Order().ToArray();
            Assert.Equal(latencies.Length, result.Latency.Count);
            Assert.Equal(latencies.Average(), result.Latency.Mean, 9);
            Assert.Equal(Percentile(latencies, 0.5), result.Latency.P50, 9);
            Assert.Equal(Percentile(latencies, 0.95), result.Latency.P95, 9);
            Assert.Equal(Percentile(latencies, 0.99), result.Latency.P99, 9);
            Assert.Equal(latencies[^1], result.Latency.Max, 9);
            Assert.Equal(Percentile([.. cell.Where(s => s.Success && s.Ttft is not null).Select(s => s.Ttft!.Value).Order()], 0.5), result.Ttft.P50, 9);
            Assert.Equal((double)cell.Count(s => s.Success && s.Ttft <= 0.5 && s.Latency <= 5) / cell.Length, result.Goodput, 9);
            Assert.True(result.CostPerRequest > 0, "the catalog's prices apply");
        }

        // One run at a time: a second waits in the queue behind a long one.
        var longLoad = new BenchmarkLoad(TargetRps: 5, DurationSeconds: 120);
        var running = await client.StartBenchmarkAsync(Config(2, [1], longLoad));
        var waiting = await client.StartBenchmarkAsync(Config(2, [1], longLoad) with { Name = "second" });
        Assert.Equal((BenchmarkStatus.Running, BenchmarkStatus.Queued), (running.Status, waiting.Status));

        // The silo that runs the first dies: the run ends failed, with the cells it finished, and the queue moves on.
        await Eventually.UntilAsync(() => client.GetBenchmarkAsync(running.Id), r => r.Results.Length == 2);
        await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == running.Silo));
        var failed = await KyrosTestCluster.UntilServedAsync(() => client.GetBenchmarkAsync(running.Id), TimeSpan.FromSeconds(60));
        Assert.Equal(BenchmarkStatus.Failed, failed.Status);
        Assert.Contains(running.Silo!, failed.Error);
        Assert.Equal(2, failed.Results.Length);
        var started = await Eventually.UntilAsync(async () => (await KyrosTestCluster.UntilServedAsync(() => client.ListBenchmarksAsync(), TimeSpan.FromSeconds(60)))
            .Single(r => r.Id == waiting.Id), r => r.Status == BenchmarkStatus.Running, TimeSpan.FromSeconds(60));
        Assert.Contains(started.Id, (await client.ListBenchmarksAsync()).Select(r => r.Id));

        // Cancelled while its load test runs: it stops at once and keeps its finished closed-loop cells.
        await Eventually.UntilAsync(() => client.GetBenchmarkAsync(waiting.Id), r => r.Results.Length == 2);
        var cancelled = await client.CancelBenchmarkAsync(waiting.Id);
        Assert.Equal(BenchmarkStatus.Cancelled, cancelled.Status);
        Assert.Equal(2, cancelled.Results.Length);
        Assert.All(cancelled.Results, r => Assert.Equal("concurrency", r.Mode));
        await Assert.ThrowsAsync<BenchmarkNotFoundException>(() => client.GetBenchmarkAsync("bench-unknown"));
        Assert.Equal("iterations_per_model",
            (await Assert.ThrowsAsync<ArgumentException>(() => client.StartBenchmarkAsync(Config(0, [1])))).ParamName);
        Assert.Equal("model_types[1]",
            (await Assert.ThrowsAsync<ArgumentException>(() => client.StartBenchmarkAsync(Config(1, [1]) with { ModelTypes = ["claude", "no-such-model"] }))).ParamName);
    }
}
