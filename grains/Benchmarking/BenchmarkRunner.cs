using System.Diagnostics;
using System.Text.RegularExpressions;
using Kyros.Perf.Catalog;

namespace Kyros.Perf.Benchmarking;

/// <summary>A finished cell: one model at one level, with every request's sample and the cell's wall time.</summary>
public sealed record BenchmarkCell(string Model, string Mode, int Concurrency, double? TargetRps, BenchmarkSample[] Samples, double WallSeconds);

/// <summary>
/// Runs a benchmark's requests. Closed loop: at each concurrency level, every model gets the same prompts in the same
/// order, in slices interleaved across models (the order of models reshuffled, seeded, every round), so that drift on the
/// machine or the network falls on all of them alike. Open loop: every model gets the same seeded Poisson schedule at the
/// same time; latency counts from each request's scheduled start, and a send held back (by the cap on requests in flight,
/// or a generator behind) is counted late, never dropped.
/// </summary>
public sealed partial class BenchmarkRunner(IBenchmarkBackend backend)
{
    public const string ClosedLoop = "concurrency";
    public const string OpenLoop = "load";
    /// <summary>A closed-loop level runs in at most this many slices per model.</summary>
    public const int Rounds = 5;

    private int _completed;
    private volatile string _phase = "starting";

    /// <summary>Requests answered so far (read from any thread).</summary>
    public int Completed => Volatile.Read(ref _completed);

    /// <summary>What the run is doing now: <c>concurrency 4</c>, <c>load</c>.</summary>
    public string Phase => _phase;

    public async Task RunAsync(string runId, BenchmarkConfig config, IReadOnlyList<ModelDescriptor> models, Func<BenchmarkCell, Task> onCell,
        CancellationToken cancellationToken)
    {
        foreach (var level in config.ConcurrencyLevels)
        {
            _phase = $"{ClosedLoop} {level}";
            var cells = await ClosedLoopAsync(runId, config, models, level, cancellationToken);
            foreach (var cell in cells) await onCell(cell);
        }
        if (config.Load is { } load)
        {
            _phase = OpenLoop;
            var arrivals = OpenLoopSchedule.Arrivals(load, config.Seed);
            var cells = await Task.WhenAll(models.Select(m => OpenLoopAsync(runId, config, m, load, arrivals, cancellationToken)));
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var cell in cells) await onCell(cell);
        }
    }

    private async Task<BenchmarkCell[]> ClosedLoopAsync(string runId, BenchmarkConfig config, IReadOnlyList<ModelDescriptor> models, int concurrency,
        CancellationToken cancellationToken)
    {
        var n = config.IterationsPerModel;
        var slice = Math.Max(concurrency, (int)Math.Ceiling(n / (double)Rounds));
        var samples = models.Select(_ => new BenchmarkSample[n]).ToArray();
        var wall = new double[models.Count];
        var random = new Random(HashCode.Combine(config.Seed, concurrency));
        for (var from = 0; from < n; from += slice)
        {
            var to = Math.Min(n, from + slice);
            foreach (var m in Enumerable.Range(0, models.Count).OrderBy(_ => random.Next()).ToArray())
            {
                var started = Stopwatch.GetTimestamp();
                var offset = wall[m];
                var next = from - 1;
                await Task.WhenAll(Enumerable.Range(0, Math.Min(concurrency, to - from)).Select(_ => Task.Run(async () =>
                {
                    for (var i = Interlocked.Increment(ref next); i < to; i = Interlocked.Increment(ref next))
                    {
                        var sentAt = offset + Stopwatch.GetElapsedTime(started).TotalSeconds;
                        var call = await CallAsync(runId, config, models[m], concurrency, i, cancellationToken);
                        samples[m][i] = Sample(models[m].Id, ClosedLoop, concurrency, config, i, sentAt, 0, call);
                    }
                }, cancellationToken)));
                wall[m] += Stopwatch.GetElapsedTime(started).TotalSeconds;
            }
        }
        return [.. models.Select((model, m) => new BenchmarkCell(model.Id, ClosedLoop, concurrency, null, samples[m], wall[m]))];
    }

    private async Task<BenchmarkCell> OpenLoopAsync(string runId, BenchmarkConfig config, ModelDescriptor model, BenchmarkLoad load, double[] arrivals,
        CancellationToken cancellationToken)
    {
        var samples = new BenchmarkSample[arrivals.Length];
        var sends = new List<Task>(arrivals.Length);
        using var slots = new SemaphoreSlim(load.MaxInFlight, load.MaxInFlight);
        var started = Stopwatch.GetTimestamp();
        try
        {
            for (var i = 0; i < arrivals.Length; i++)
            {
                var due = arrivals[i];
                var wait = due - Stopwatch.GetElapsedTime(started).TotalSeconds;
                // Sleep only when the next arrival is far: near ones go out in a burst, on time, rather than late by a timer tick.
                if (wait > 0.002) await Task.Delay(TimeSpan.FromSeconds(wait - 0.001), cancellationToken);
                await slots.WaitAsync(cancellationToken);
                var delay = Math.Max(0, Stopwatch.GetElapsedTime(started).TotalSeconds - due);
                var index = i;
                sends.Add(Task.Run(async () =>
                {
                    try
                    {
                        var call = await CallAsync(runId, config, model, load.MaxInFlight, index, cancellationToken);
                        // From the schedule: the time the send was held back is the caller's wait too.
                        samples[index] = Sample(model.Id, OpenLoop, load.MaxInFlight, config, index, due, delay,
                            call with { Latency = call.Latency + delay, Ttft = call.Ttft + delay });
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
        }
        finally
        {
            // Cancelled or not, no send outlives the cell (a cancelled send's own error is the cancellation's).
            try
            {
                await Task.WhenAll(sends);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }
        return new BenchmarkCell(model.Id, OpenLoop, load.MaxInFlight, load.TargetRps, samples, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    private async Task<BenchmarkCall> CallAsync(string runId, BenchmarkConfig config, ModelDescriptor model, int level, int index,
        CancellationToken cancellationToken)
    {
        var prompt = config.TestPrompts[index % config.TestPrompts.Length];
        var call = await backend.CallAsync(model, prompt.Prompt, config.MaxTokens, $"{runId}-{model.Id}-{level}-{index}", config.RecordLiveStatistics,
            cancellationToken);
        Interlocked.Increment(ref _completed);
        return call;
    }

    private static BenchmarkSample Sample(string model, string mode, int level, BenchmarkConfig config, int index, double scheduledAt, double delay,
        BenchmarkCall call)
    {
        var prompt = config.TestPrompts[index % config.TestPrompts.Length];
        double? quality = call.Success && prompt.Expected is { } expected && config.MetricsToCollect.Contains(BenchmarkMetrics.Quality)
            ? Score(call.Text, expected)
            : null;
        return new BenchmarkSample(model, mode, level, index % config.TestPrompts.Length, scheduledAt, delay, call.Latency, call.Ttft,
            call.InputTokens, call.OutputTokens, call.Success, call.ErrorKind, call.Cost, quality);
    }

    /// <summary>1 when the answer equals the expected one or contains it, case and runs of spaces aside; 0 otherwise.</summary>
    public static double Score(string answer, string expected)
    {
        var a = Spaces().Replace(answer.Trim(), " ");
        var e = Spaces().Replace(expected.Trim(), " ");
        return e.Length > 0 && a.Contains(e, StringComparison.OrdinalIgnoreCase) ? 1 : 0;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
