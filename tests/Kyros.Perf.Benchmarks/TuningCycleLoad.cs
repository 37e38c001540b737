using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Kyros.Perf.Tuning;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// One tuning cycle over 1,000 models and 100 hosts, each with an hour of data: how long a cycle takes with nothing else
/// running, and how much of the recording rate is left while cycles run back to back.
/// </summary>
public static class TuningCycleLoad
{
    public const int Models = 1000;
    public const int Hosts = 100;
    /// <summary>Cycles measured with no other load, after one warm-up cycle.</summary>
    public const int MeasuredCycles = 5;
    public const int Writers = 16;
    public const int RecordsPerCall = 100;
    /// <summary>Each condition of the recording comparison runs in this many slices, alternating with the other.</summary>
    public const int Rounds = 3;
    private const int RecordsPerMinute = 5;
    private static readonly TimeSpan SampleSpacing = TimeSpan.FromSeconds(30);
    private const int SamplesPerHost = 60;

    /// <summary>
    /// The routing benchmark's 1,000-model catalog with each model's timeout set to its latency's p99 (1.1 times its typical
    /// latency, see <see cref="Latency"/>) plus the default safety margin, as a tuner that has converged leaves it. With the
    /// default of 60 s every model would propose a timeout on every cycle, and the cycle would measure that churn rather
    /// than the rules' findings.
    /// </summary>
    public static string CatalogJson()
    {
        var root = JsonNode.Parse(RoutingLoad.CatalogJson(Models))!;
        foreach (var model in root["Kyros"]!["Catalog"]!["Models"]!.AsArray())
        {
            var index = int.Parse(model!["Id"]!.GetValue<string>()["model-".Length..], CultureInfo.InvariantCulture);
            model["TimeoutSeconds"] = Math.Round(Math.Max(1, 1.2 * 1.1 * TypicalLatency(index)), 3);
        }
        return root.ToJsonString();
    }

    public static async Task<IReadOnlyList<string>> RunAsync(string store, KyrosPerfClient client, IClusterClient grains, double seconds, Func<TimeSpan> siloCpu)
    {
        // Only the cycles started here run: the tuner's own timer would add one at an unknown moment.
        await client.UpdateTuningConfigurationAsync(new TuningConfigurationUpdate { Enabled = false });
        var seeding = Stopwatch.StartNew();
        await SeedRecordsAsync(client);
        await SeedHostsAsync(client);
        Console.Error.WriteLine($"[tuning/{store}] seeded {Models:N0} models x {60 * RecordsPerMinute} records and {Hosts} hosts x {SamplesPerHost} samples in {seeding.Elapsed.TotalSeconds:0.0} s");
        // The 1,000 model grains checkpoint what the seeding wrote on their next timer tick; that work is not the cycle's.
        await Task.Delay(new ModelStatsOptions().CheckpointInterval + TimeSpan.FromSeconds(2));

        var warmUp = await client.RunTuningCycleAsync();
        if (warmUp.ModelsRead != Models || warmUp.HostsRead != Hosts)
            throw new InvalidOperationException($"the cycle read {warmUp.ModelsRead} models and {warmUp.HostsRead} hosts; expected {Models} and {Hosts}.");
        Console.Error.WriteLine($"[tuning/{store}] warm-up cycle: {warmUp.DurationMs:N0} ms, proposed {Proposals(warmUp)}");

        // (a) Cycles alone.
        var durations = new List<double>();
        var walls = new List<double>();
        TuningCycleResult last = warmUp;
        var cpuBefore = siloCpu();
        for (var i = 0; i < MeasuredCycles; i++)
        {
            var watch = Stopwatch.StartNew();
            last = await client.RunTuningCycleAsync();
            walls.Add(watch.Elapsed.TotalMilliseconds);
            durations.Add(last.DurationMs);
        }
        var siloCpuPerCycle = (siloCpu() - cpuBefore) / MeasuredCycles;
        Console.Error.WriteLine($"[tuning/{store}] {MeasuredCycles} cycles alone: p50 {Median(durations):N0} ms, max {durations.Max():N0} ms, proposed {Proposals(last)}");

        // The reference every mode gives: a no-op grain call at the writers' concurrency, in this run.
        var pings = Enumerable.Range(0, 5).Select(i => grains.GetGrain<IPingGrain>(i)).ToArray();
        var noop = await Load.RunAsync($"tuning/{store}", "no-op grain call", Writers, 0, seconds, w => pings[w % 5].PingAsync());

        // (b) Recording without cycles and with cycles back to back, slice about slice.
        var recording = await RecordingWithAndWithoutCyclesAsync(client, seconds);
        var ratio = recording.WithCycles / recording.Alone;
        Console.Error.WriteLine($"[tuning/{store}] recording: {recording.Alone:N0} records/s alone, {recording.WithCycles:N0} with cycles ({ratio:0.00}); {recording.CycleDurations.Count} cycles under load, p50 {Median(recording.CycleDurations):N0} ms");

        string Row(string measure, string value, string target) => $"| {store} | {measure} | {value} | {target} |";
        string Ms(double value) => value.ToString("N0", CultureInfo.InvariantCulture) + " ms";
        string Number(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
        var underLoad = recording.CycleDurations;
        var cycleTarget = durations.Max() < 2000 ? "under 2 s: met"
            : Median(durations) < 2000 ? "under 2 s: met at p50, **missed** at max" : "under 2 s: **missed**";
        return
        [
            Row($"cycle duration (`DurationMs`), {MeasuredCycles} cycles alone: p50 / max", $"{Ms(Median(durations))} / {Ms(durations.Max())}", cycleTarget),
            Row("client wall time per cycle: p50 / max", $"{Ms(Median(walls))} / {Ms(walls.Max())}", "-"),
            Row("silo CPU per cycle", Ms(siloCpuPerCycle.TotalMilliseconds), "-"),
            Row("models read / hosts read / grain calls per cycle", $"{Number(last.ModelsRead)} / {Number(last.HostsRead)} / {Number(last.GrainCalls)}", "-"),
            Row("recommendations per cycle", Proposals(last), "-"),
            Row($"no-op grain call x{Writers} (reference)", Number(noop.CallsPerSecond) + " calls/s", "-"),
            Row($"`RecordBatchAsync` x{Writers}, {RecordsPerCall}/call, no cycle", Number(recording.Alone) + " records/s", "-"),
            Row($"`RecordBatchAsync` x{Writers}, {RecordsPerCall}/call, cycles back to back", Number(recording.WithCycles) + " records/s", "-"),
            Row("recording rate with cycles ÷ without", ratio.ToString("0.00", CultureInfo.InvariantCulture), Met(ratio >= 0.9, "at least 0.90")),
            Row($"cycle duration under that load ({underLoad.Count} cycles): p50 / max",
                underLoad.Count == 0 ? "-" : $"{Ms(Median(underLoad))} / {Ms(underLoad.Max())}", "-"),
        ];
    }

    private static string Met(bool met, string target) => $"{target}: {(met ? "met" : "**missed**")}";

    private static double Median(IReadOnlyList<double> values) =>
        values.Count == 0 ? double.NaN : values.Order().ElementAt((values.Count - 1) / 2);

    private static string Proposals(TuningCycleResult cycle) => cycle.Recommendations.Count == 0 ? "0"
        : $"{cycle.Recommendations.Count} ({string.Join(", ", cycle.Recommendations.GroupBy(r => r.Rule).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"))})";

    /// <summary>The catalog's latency prior of the model: what its requests take when it is well.</summary>
    private static double TypicalLatency(int model) => 0.5 + model % 11 * 0.2;

    /// <summary>One model in twenty slows down steadily over the hour: the degradation rule shifts traffic from it.</summary>
    private static bool IsCreeping(int model) => model % 20 == 7;

    /// <summary>One host in ten has a cpu that hovers around its warning (70): raised and resolved again and again.</summary>
    private static bool IsFlapping(int host) => host % 10 == 3;

    /// <summary>A request's latency <paramref name="minutesAgo"/> minutes back: within ±10 % of the model's typical one, times its creep.</summary>
    private static double Latency(int model, double minutesAgo, long request)
    {
        var creep = IsCreeping(model) ? 1 + 0.6 * (60 - minutesAgo) / 60 : 1;
        var spread = (request * 7919 + model * 104_729) % 1000 / 1000.0;
        return Math.Round(TypicalLatency(model) * creep * (0.9 + 0.2 * spread), 4);
    }

    private static ModelPerformanceRecord Record(int model, DateTimeOffset at, double minutesAgo, long request, string requestId)
    {
        var latency = Latency(model, minutesAgo, request);
        var failed = request % 50 == 0;
        return new ModelPerformanceRecord($"model-{model:D4}", null, at, latency, Math.Round(latency * 0.2, 4), 500, 200, !failed,
            failed ? "server_error" : null, 0.0005 + model % 7 * 0.0002, 0.75 + request % 5 * 0.04, requestId);
    }

    /// <summary>Every model's last hour: <see cref="RecordsPerMinute"/> records a minute, timestamps in the past, one call per model.</summary>
    private static Task SeedRecordsAsync(KyrosPerfClient client)
    {
        var now = DateTimeOffset.UtcNow;
        return Parallel.ForEachAsync(Enumerable.Range(0, Models), new ParallelOptions { MaxDegreeOfParallelism = Writers }, async (model, _) =>
        {
            var records = new List<ModelPerformanceRecord>(60 * RecordsPerMinute);
            for (var ago = 60; ago >= 1; ago--)
                for (var i = 0; i < RecordsPerMinute; i++)
                {
                    var request = ago * RecordsPerMinute + i;
                    records.Add(Record(model, now.AddMinutes(-ago).AddSeconds(i * 60.0 / RecordsPerMinute), ago, request, $"seed-{model}-{ago}-{i}"));
                }
            await client.RecordBatchAsync(records);
        });
    }

    /// <summary>Every host's last half hour, a sample every 30 s, pushed oldest first in one call per host (within the 1 h the grain keeps).</summary>
    private static Task SeedHostsAsync(KyrosPerfClient client)
    {
        var start = DateTimeOffset.UtcNow - SamplesPerHost * SampleSpacing;
        const long memoryTotal = 64L << 30;
        const long diskTotal = 500L << 30;
        return Parallel.ForEachAsync(Enumerable.Range(0, Hosts), new ParallelOptions { MaxDegreeOfParallelism = Writers }, async (host, _) =>
        {
            var node = $"host-{host:D3}";
            var samples = new ResourceSample[SamplesPerHost];
            for (var k = 0; k < samples.Length; k++)
            {
                var wobble = (k * 31 + host * 17) % 7 - 3; // -3..3
                // Flapping: three samples near 80, three near 52, so each warning is raised and resolved every three minutes.
                var cpu = IsFlapping(host) ? (k % 6 < 3 ? 79 : 52) + wobble : 25 + host % 5 * 5 + wobble;
                var memory = 40 + host % 4 * 5 + wobble;
                samples[k] = new ResourceSample
                {
                    Node = node,
                    Timestamp = start + k * SampleSpacing,
                    CpuPercent = cpu,
                    MemoryPercent = memory,
                    MemoryUsedBytes = memoryTotal / 100 * memory,
                    MemoryTotalBytes = memoryTotal,
                    Disks = [new DiskSample("/", diskTotal / 2 + k * (1L << 20), diskTotal)],
                    Networks = [new NetworkSample("eth0", 2e7 + wobble * 1e6, 1e7 + wobble * 1e6, 1.25e9)],
                    TcpConnections = 200 + wobble * 10,
                };
            }
            await client.PushSamplesAsync(node, samples);
        });
    }

    private sealed record Recording(double Alone, double WithCycles, List<double> CycleDurations);

    /// <summary>
    /// <see cref="Writers"/> callers of <c>RecordBatchAsync</c> in a closed loop, without cycles and with cycles back to back,
    /// in alternating slices so that the drift of a noisy machine falls on both alike. A slice with cycles lasts until
    /// its last cycle ends, so the writers share every moment of it with a cycle.
    /// </summary>
    private static async Task<Recording> RecordingWithAndWithoutCyclesAsync(KyrosPerfClient client, double seconds)
    {
        long sequence = 0;
        Task Write()
        {
            // Writers walk the catalog, one model a call, so every model's grain takes writes.
            var call = Interlocked.Increment(ref sequence);
            var model = (int)(call % Models);
            var now = DateTimeOffset.UtcNow;
            var batch = new ModelPerformanceRecord[RecordsPerCall];
            for (var r = 0; r < batch.Length; r++) batch[r] = Record(model, now, 0, call * RecordsPerCall + r, $"load-{call}-{r}");
            return client.RecordBatchAsync(batch);
        }

        var slice = TimeSpan.FromSeconds(seconds / Rounds);
        var cycleDurations = new List<double>();
        await WriteAsync(TimeSpan.FromSeconds(1), withCycles: false); // warm-up, unmeasured
        var (aloneCalls, aloneSeconds, withCalls, withSeconds) = (0L, 0.0, 0L, 0.0);
        for (var round = 0; round < Rounds; round++)
        {
            var (calls, elapsed) = await WriteAsync(slice, withCycles: false);
            (aloneCalls, aloneSeconds) = (aloneCalls + calls, aloneSeconds + elapsed);
            (calls, elapsed) = await WriteAsync(slice, withCycles: true);
            (withCalls, withSeconds) = (withCalls + calls, withSeconds + elapsed);
        }
        return new Recording(aloneCalls * RecordsPerCall / aloneSeconds, withCalls * RecordsPerCall / withSeconds, cycleDurations);

        async Task<(long Calls, double Seconds)> WriteAsync(TimeSpan span, bool withCycles)
        {
            var stop = false;
            long completed = 0;
            var watch = Stopwatch.StartNew();
            var writers = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
            {
                while (!Volatile.Read(ref stop))
                {
                    await Write();
                    Interlocked.Increment(ref completed);
                }
            })).ToList();
            if (!withCycles) await Task.Delay(span);
            else
                do cycleDurations.Add((await client.RunTuningCycleAsync()).DurationMs);
                while (watch.Elapsed < span);
            // Calls that complete after this moment are not counted, and neither is the time they take.
            var counted = Interlocked.Read(ref completed);
            var elapsed = watch.Elapsed.TotalSeconds;
            Volatile.Write(ref stop, true);
            await Task.WhenAll(writers);
            return (counted, elapsed);
        }
    }
}
