using System.Collections.Concurrent;
using System.Diagnostics;
using Kyros.Perf.Benchmarking;
using Kyros.Perf.Catalog;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>The runner against test backends of its own: one that answers at once and logs the order of calls, one that freezes for a second.</summary>
public sealed class BenchmarkRunnerTests
{
    private static readonly ModelDescriptor[] Models = [new() { Id = "alpha" }, new() { Id = "beta" }, new() { Id = "gamma" }];

    /// <summary>Answers at once with four tokens; remembers which model got which prompt, in the order the calls came.</summary>
    private sealed class RecordingBackend : IBenchmarkBackend
    {
        public ConcurrentQueue<(string Model, string Prompt)> Calls { get; } = new();

        public Task<BenchmarkCall> CallAsync(ModelDescriptor model, string prompt, int maxTokens, string requestId, bool recordLive, CancellationToken cancellationToken)
        {
            Calls.Enqueue((model.Id, prompt));
            return Task.FromResult(new BenchmarkCall(0.001, 0.0005, 3, 4, true, null, 0.0001, $"answer to {prompt}"));
        }
    }

    /// <summary>Answers in a millisecond, except that every call in flight during [FreezeAt, FreezeAt + 1 s) waits for the freeze to end.</summary>
    private sealed class FreezingBackend(Stopwatch clock, TimeSpan freezeAt) : IBenchmarkBackend
    {
        public async Task<BenchmarkCall> CallAsync(ModelDescriptor model, string prompt, int maxTokens, string requestId, bool recordLive,
            CancellationToken cancellationToken)
        {
            var started = clock.Elapsed;
            var thaw = freezeAt + TimeSpan.FromSeconds(1);
            var wait = started >= freezeAt && started < thaw ? thaw - started : TimeSpan.FromMilliseconds(1);
            await Task.Delay(wait, cancellationToken);
            var latency = (clock.Elapsed - started).TotalSeconds;
            return new BenchmarkCall(latency, latency / 2, 3, 4, true, null, 0, "ok");
        }
    }

    private static BenchmarkConfig Config(int iterations, params int[] levels) => new()
    {
        ModelTypes = [.. Models.Select(m => m.Id)],
        TestPrompts = [new("p0", "answer to p0"), new("p1"), new("p2", "nothing like it")],
        IterationsPerModel = iterations,
        ConcurrencyLevels = levels,
        Seed = 7,
    };

    private static async Task<List<BenchmarkCell>> RunAsync(IBenchmarkBackend backend, BenchmarkConfig config, CancellationToken cancellationToken = default)
    {
        var cells = new List<BenchmarkCell>();
        await new BenchmarkRunner(backend).RunAsync("bench-test", config, [.. Models.Where(m => config.ModelTypes.Contains(m.Id))], cell =>
        {
            cells.Add(cell);
            return Task.CompletedTask;
        }, cancellationToken);
        return cells;
    }

    [Fact]
    public async Task Every_model_gets_the_same_prompts_in_the_same_order_in_slices_interleaved_across_models()
    {
        var backend = new RecordingBackend();
        var cells = await RunAsync(backend, Config(10, 1, 2));

        Assert.Equal(6, cells.Count); // three models at two levels
        Assert.All(cells, c => Assert.Equal(10, c.Samples.Length));
        var calls = backend.Calls.ToArray();
        foreach (var model in Models)
        {
            // Prompt i % 3 for the i-th request: the same sequence for every model (in order at one caller; as a set at two).
            var prompts = calls.Where(c => c.Model == model.Id).Select(c => c.Prompt).ToArray();
            string[] expected = [.. Enumerable.Range(0, 10).Select(i => $"p{i % 3}")];
            Assert.Equal(expected, prompts.Take(10));
            Assert.Equal(expected.Order(), prompts.Skip(10).Order());
        }
        // Interleaved: within the first level's first half of calls, every model already had its share (no model ran all of its requests first).
        var firstLevel = calls.Take(30).ToArray();
        foreach (var model in Models) Assert.InRange(firstLevel.Take(15).Count(c => c.Model == model.Id), 2, 8);

        // Quality: containment of the expected answer, scored only where one is expected.
        var alpha = cells.First(c => c.Model == "alpha" && c.Concurrency == 1).Samples;
        Assert.Equal([1.0, null, 0.0], alpha.Take(3).Select(s => s.Quality));
    }

    [Fact]
    public async Task The_open_loop_keeps_its_rate_and_a_one_second_freeze_shows_in_the_p99_from_schedule_with_the_late_sends_counted()
    {
        var load = new BenchmarkLoad(TargetRps: 200, DurationSeconds: 3, MaxInFlight: 8);
        var config = Config(1, 1) with { ModelTypes = ["alpha"], Load = load };
        var arrivals = OpenLoopSchedule.Arrivals(load, config.Seed);

        // Steady: every arrival is sent, at the target rate. How many go late on a busy machine is the benchmark's to
        // measure (docs/benchmarks.md, "Load generator"), not a unit test's.
        var steady = (await RunAsync(new RecordingBackend(), config)).Single(c => c.Mode == BenchmarkRunner.OpenLoop);
        Assert.Equal(arrivals.Length, steady.Samples.Length);
        Assert.InRange(steady.Samples.Length / load.DurationSeconds, 200 * 0.8, 200 * 1.2);

        // Frozen for a second from 1 s: the 8 slots fill, sends are held back and counted late; nothing is dropped.
        var clock = Stopwatch.StartNew();
        var frozen = (await RunAsync(new FreezingBackend(clock, TimeSpan.FromSeconds(1)), config)).Single(c => c.Mode == BenchmarkRunner.OpenLoop);
        Assert.Equal(arrivals.Length, frozen.Samples.Length);
        var result = BenchmarkStatistics.Summarize("alpha", BenchmarkRunner.OpenLoop, load.MaxInFlight, load.TargetRps, frozen.Samples, frozen.WallSeconds, new());
        Assert.True(result.LateSends >= 100, $"late sends {result.LateSends}: about a second's arrivals (200) wait for the thaw");
        Assert.True(result.Latency.P99 >= 0.8, $"p99 from schedule {result.Latency.P99:0.000} s");
        Assert.True(result.MaxSendDelay >= 0.8, $"max send delay {result.MaxSendDelay:0.000} s");
        // Measured from the send instead, the held-back requests would look fast: the schedule is what shows the stall.
        var fromSend = frozen.Samples.Select(s => s.Latency - s.SendDelay).Order().ToArray();
        Assert.True(fromSend[fromSend.Length / 2] < 0.05, "most requests are fast once sent");
    }

    [Fact]
    public async Task Cancelling_stops_the_run_and_no_request_outlives_it()
    {
        var backend = new RecordingBackend();
        var config = Config(1, 1) with { Load = new BenchmarkLoad(TargetRps: 50, DurationSeconds: 60) };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var cells = new List<BenchmarkCell>();
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new BenchmarkRunner(backend).RunAsync("bench-test", config, Models, cell =>
        {
            cells.Add(cell);
            return Task.CompletedTask;
        }, cancel.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"stopped after {watch.Elapsed}");
        Assert.Equal(3, cells.Count); // the closed-loop cells finished before; the load test's are not reported
        var sent = backend.Calls.Count;
        await Task.Yield();
        Assert.Equal(sent, backend.Calls.Count);
    }
}
