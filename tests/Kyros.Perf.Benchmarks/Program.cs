using System.Diagnostics;
using System.Globalization;
using Kyros.Perf;
using Kyros.Perf.Benchmarks;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Ingestion against a real silo process through the external Orleans client, with and without Redis.
// Every figure is also given as a ratio to a no-op grain call measured in the same run.
// soak (--soak-minutes 10): an embedded silo under steady records, routing and generations; working set and activations flat.
// scale: 1,000 then 10,000 models (and 1,000 hosts) in one silo with Redis: working set per model and host, summaries.
// otlp: OTLP trace exports of 512 GenAI spans into one embedded silo, beside the same records as JSON.
// catalog: 10,000 models on two silos with Redis: an edit's time, until both silos serve it, decisions over 1,000 of them.
// tuning (tuning-redis: with its own redis-server) measures one tuning cycle over 1,000 models and 100 hosts, and recording beside it.
// keys: the gateway's named-model call with a configured key, a run-time key with a budget (its account), and a response cache hit.
// gateway: the gateway beside the backend called directly and a no-op YARP proxy (the limit), at 1, 16 and 64 connections.
// gateway-profile: the named-model call at 16 connections for --seconds, the silo's pid printed first, for dotnet-trace.
// tracing: the gateway's named-model call with the silo's OpenTelemetry traces off, all exported, and 1 in 10 sampled.
// loadgen measures the benchmark's open-loop load generator against a backend that answers at once, beside autocannon
// (--autocannon PATH or KYROS_AUTOCANNON; without either it runs ours alone).
//   dotnet run -c Release --project tests/Kyros.Perf.Benchmarks -- [--seconds 3] [--modes memory,redis,routing,sampling,gateway,keys,tracing,tuning,tuning-redis,loadgen,scale,soak,catalog,otlp] [--sampling-seconds 60] [--soak-minutes 10] [--autocannon PATH]
// proxy PORT URL: this program as the no-op YARP proxy the gateway mode measures against (started by that mode).
if (args is [NoOpProxy.Mode, var proxyPort, var proxyTarget])
{
    await NoOpProxy.RunAsync(int.Parse(proxyPort, CultureInfo.InvariantCulture), proxyTarget);
    return;
}
var seconds = 3.0;
var modes = new[] { "memory", "redis", "routing" };
var footprint = true;
var samplingSeconds = 60.0;
var soakMinutes = 10.0;
var autocannon = Environment.GetEnvironmentVariable("KYROS_AUTOCANNON") is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--seconds") seconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (args[i] == "--modes") modes = args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries);
    else if (args[i] == "--no-footprint") footprint = false;
    else if (args[i] == "--soak-minutes") soakMinutes = double.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (args[i] == "--sampling-seconds") samplingSeconds = double.Parse(args[++i], CultureInfo.InvariantCulture);
    else if (args[i] == "--autocannon") autocannon = args[++i];
    else throw new ArgumentException($"unknown argument {args[i]}");
}
var configuration = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";
if (configuration != "Release") Console.Error.WriteLine("warning: not a Release build; figures are not representative");

var root = ChildProcess.RepositoryRoot();
var siloDll = Path.Combine(root, "silo", "bin", configuration, "net10.0", "Kyros.Perf.Silo.dll");
var results = new List<Result>();
IReadOnlyList<string> samplingRows = [];
IReadOnlyList<string> gatewayRows = [];
IReadOnlyList<string> tracingRows = [];
IReadOnlyList<string> keyRows = [];
IReadOnlyList<string> loadGeneratorRows = [];
var scaleRows = new List<string>();
IReadOnlyList<string> soakRows = [];
IReadOnlyList<string> catalogRows = [];
IReadOnlyList<string> otlpRows = [];
var tuningRows = new List<string>();
foreach (var mode in modes)
{
    if (mode == "gateway")
    {
        gatewayRows = await GatewayOverhead.RunAsync(siloDll, seconds);
        continue;
    }
    if (mode == "gateway-profile")
    {
        gatewayRows = await GatewayOverhead.RunProfileAsync(siloDll, seconds);
        continue;
    }
    if (mode == "keys")
    {
        keyRows = await GatewayOverhead.RunKeysAsync(siloDll, seconds);
        continue;
    }
    if (mode == "tracing")
    {
        tracingRows = await GatewayOverhead.RunTracingAsync(siloDll, seconds);
        continue;
    }
    if (mode == "loadgen")
    {
        loadGeneratorRows = await LoadGeneratorCeiling.RunAsync(siloDll, seconds, autocannon);
        continue;
    }
    if (mode == "soak")
    {
        soakRows = await SoakLoad.RunAsync(siloDll, soakMinutes);
        continue;
    }
    if (mode == "otlp")
    {
        otlpRows = await OtlpLoad.RunAsync(siloDll, seconds);
        continue;
    }
    if (mode == "catalog")
    {
        catalogRows = await CatalogLoad.RunAsync(siloDll, models: 10_000, changes: 20);
        continue;
    }
    if (mode == "scale")
    {
        scaleRows.AddRange(await ScaleLoad.RunAsync(siloDll, models: 1_000, hosts: 0, summaries: true));
        scaleRows.AddRange(await ScaleLoad.RunAsync(siloDll, models: 10_000, hosts: 1_000, summaries: true));
        continue;
    }
    if (mode == "sampling")
    {
        samplingRows = await SamplingOverhead.RunAsync(siloDll, samplingSeconds);
        continue;
    }
    var work = Directory.CreateTempSubdirectory("kyros-bench-").FullName;
    ChildProcess? redis = null;
    string? redisConnection = null;
    var tuning = mode is "tuning" or "tuning-redis";
    if (mode is "redis" or "tuning-redis")
    {
        var redisPort = ChildProcess.FreePort();
        redis = ChildProcess.Start("redis", "redis-server", ["--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", work]);
        await ChildProcess.WaitForPortAsync(redisPort, TimeSpan.FromSeconds(10));
        redisConnection = $"127.0.0.1:{redisPort}";
    }
    if (mode == "routing") File.WriteAllText(Path.Combine(work, "appsettings.json"), RoutingLoad.CatalogJson(1000));
    if (tuning) File.WriteAllText(Path.Combine(work, "appsettings.json"), TuningCycleLoad.CatalogJson());
    var gateway = ChildProcess.FreePort();
    var siloArgs = new List<string>
    {
        siloDll, $"--Kyros:SiloPort={ChildProcess.FreePort()}", $"--Kyros:GatewayPort={gateway}",
        $"--Kyros:HttpUrl=http://127.0.0.1:{ChildProcess.FreePort()}", $"--Kyros:History:DatabasePath={Path.Combine(work, "history.db")}",
        "--Kyros:Dashboard=false", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Orleans=Error",
    };
    if (redisConnection is not null) siloArgs.Add($"--Kyros:Redis={redisConnection}");
    // The cycle reads the 100 hosts the benchmark pushes, not this machine as a 101st.
    if (tuning) siloArgs.Add("--Kyros:Resources:SampleLocalHost=false");
    await using var silo = ChildProcess.Start("silo", "dotnet", siloArgs, work);
    await ChildProcess.WaitForPortAsync(gateway, TimeSpan.FromSeconds(60));

    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Error);
    builder.Services.AddKyrosPerfClient(o =>
    {
        if (redisConnection is not null) o.Redis = redisConnection;
        else o.Gateways = [$"127.0.0.1:{gateway}"];
    });
    using var host = builder.Build();
    await host.StartAsync();
    var client = host.Services.GetRequiredService<KyrosPerfClient>();
    var grains = host.Services.GetRequiredService<IClusterClient>();
    string[] models = ["gpt-4", "gpt-3.5-turbo", "claude", "gemini-pro", "local-llama"];
    long sequence = 0;
    ModelPerformanceRecord NewRecord(string model) => new(model, null, DateTimeOffset.UtcNow, 0.5 + (sequence & 1023) / 1000.0, 0.1, 100, 200,
        true, null, 0.001, null, $"b{Interlocked.Increment(ref sequence)}");

    if (mode == "routing")
    {
        results.AddRange(await RoutingLoad.RunAsync(client, grains, seconds, () => silo.CpuTime));
        await host.StopAsync();
        continue;
    }
    if (tuning)
    {
        tuningRows.AddRange(await TuningCycleLoad.RunAsync(redis is null ? "memory" : "redis", client, grains, seconds, () => silo.CpuTime));
        await host.StopAsync();
        if (redis is not null) await redis.DisposeAsync();
        continue;
    }

    // Every operation runs once before anything is measured, so no figure pays for the JIT or first activations.
    await Load.RunAsync(mode, "warm-up", 16, 0, 2, w => grains.GetGrain<IPingGrain>(w % 5).PingAsync());
    await Load.RunAsync(mode, "warm-up", 16, 1, 2, w => client.RecordAsync(NewRecord(models[w % 5])));

    foreach (var concurrency in new[] { 1, 16, 256 })
    {
        var noop = await Load.RunAsync(mode, "no-op grain call", concurrency, 0, seconds, w => grains.GetGrain<IPingGrain>(w % 5).PingAsync());
        results.Add(noop);
        results.Add(await Load.RunAsync(mode, "RecordAsync (1/call)", concurrency, 1, seconds,
            w => client.RecordAsync(NewRecord(models[w % 5])), noop));
        results.Add(await Load.RunAsync(mode, "RecordBatchAsync (1000/call)", concurrency, 1000, seconds, w =>
        {
            var model = models[w % 5];
            var batch = new ModelPerformanceRecord[1000];
            for (var r = 0; r < batch.Length; r++) batch[r] = NewRecord(model);
            return client.RecordBatchAsync(batch);
        }, noop));
    }
    var siloCpu = silo.CpuTime;
    var redisCpu = redis?.CpuTime ?? TimeSpan.Zero;
    await host.StopAsync();
    if (redis is not null) await redis.DisposeAsync();
    Console.Error.WriteLine($"[{mode}] CPU time over the run: silo {siloCpu.TotalSeconds:0.0} s, redis-server {redisCpu.TotalSeconds:0.0} s, this client {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s (cumulative)");
}

Table.Print($"Kyros.Perf ingestion, {Environment.ProcessorCount} cores, {seconds:0.#} s per cell, client and silo on this machine ({configuration})",
    ["store", "operation", "concurrency", "calls/s", "records/s", "p50 µs", "p99 µs", "calls/s ÷ no-op", "records/s ÷ no-op calls/s", "p50 ÷ no-op", "p99 ÷ no-op"],
    textColumns: 2, results.Select(r =>
    {
        var b = r.Baseline ?? r;
        string Ratio(double value, double baseline) => (value / baseline).ToString("0.00", CultureInfo.InvariantCulture);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {r.Mode} | {r.Operation} | {r.Concurrency} | {r.CallsPerSecond:N0} | {(r.RecordsPerCall == 0 ? "-" : r.RecordsPerSecond.ToString("N0", CultureInfo.InvariantCulture))} | {r.P50Micros:N0} | {r.P99Micros:N0} | {Ratio(r.CallsPerSecond, b.CallsPerSecond)} | {(r.RecordsPerCall == 0 ? "-" : Ratio(r.RecordsPerSecond, b.CallsPerSecond))} | {Ratio(r.P50Micros, b.P50Micros)} | {Ratio(r.P99Micros, b.P99Micros)} |");
    }).ToList());
Table.Print("CPU per call, from the processes' CPU time over each operation's slices (at concurrency 1 it includes idle threads spinning before they sleep)",
    ["operation", "concurrency", "silo µs", "client µs", "both µs", "both ÷ no-op"], textColumns: 1,
    results.Where(r => !double.IsNaN(r.SiloCpuMicros)).Select(r =>
    {
        var b = r.Baseline ?? r;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {r.Operation} | {r.Concurrency} | {r.SiloCpuMicros:0.0} | {r.ClientCpuMicros:0.0} | {r.SiloCpuMicros + r.ClientCpuMicros:0.0} | {(r.SiloCpuMicros + r.ClientCpuMicros) / (b.SiloCpuMicros + b.ClientCpuMicros):0.00} |");
    }).ToList());
Table.Print("Routing decision compute inside the silo (from each decision's compute_microseconds)",
    ["candidates", "concurrency", "p50 µs", "p99 µs"], textColumns: 1, RoutingLoad.ComputeTable);
Table.Print("Host sampling overhead (target: under 0.5% of one core at a 1 s interval)",
    ["what", "cost", "share of one core at one sample per second"], textColumns: 1, samplingRows);
Table.Print($"Gateway overhead: /v1/chat/completions against the backend directly, {seconds:0.#} s per cell, load generator, silo and backend on this machine ({configuration})",
    ["path", "concurrency", "requests/s", "mean µs", "p50 µs", "p99 µs", "added mean µs", "added p50 µs", "added p99 µs"], textColumns: 1, gatewayRows);
Table.Print($"Tracing cost on the gateway: the same named-model call with the silo's traces off, all exported over OTLP, and 1 in 10 sampled, {seconds:0.#} s per cell ({configuration})",
    ["path", "concurrency", "requests/s", "mean µs", "p50 µs", "p99 µs", "added mean µs", "added p50 µs", "added p99 µs"], textColumns: 1, tracingRows);
Table.Print($"Key accounts and the response cache on the gateway: one silo with Redis (AOF everysec), the named-model call, {seconds:0.#} s per cell ({configuration})",
    ["path", "concurrency", "requests/s", "mean µs", "p50 µs", "p99 µs", "added mean µs", "added p50 µs", "added p99 µs"], textColumns: 1, keyRows);
Table.Print($"Load generator ceiling: open-loop requests against a backend that answers at once, {seconds:0.#} s per cell, generators, silo and backend on this machine ({configuration})",
    ["generator", "target requests/s", "achieved requests/s", "successes", "errors", "late sends (> 10 ms)", "max send delay ms", "p50 ms", "p99 ms",
     "generator CPU µs/request", "backend CPU µs/request"], textColumns: 1, loadGeneratorRows);
Table.Print($"Tuning cycle over {TuningCycleLoad.Models:N0} models and {TuningCycleLoad.Hosts} hosts with an hour of data, {seconds:0.#} s per recording condition, client and silo on this machine ({configuration})",
    ["store", "measure", "value", "target"], textColumns: 4, tuningRows);
Table.Print($"Scale: models and hosts in one silo with Redis, a day of traffic per model ({configuration})",
    ["models", "measure", "value", "target"], textColumns: 4, scaleRows);
Table.Print($"Soak: an embedded silo under steady load, recent-record retention {SoakLoad.Retention.TotalMinutes:0} min, samples after a full GC ({configuration})",
    ["when", "value", "target"], textColumns: 3, soakRows);
Table.Print($"OTLP ingestion: one embedded silo, bodies of 512 spans, {seconds:0.#} s per cell, client and silo on this machine ({configuration}); target: 100,000 GenAI spans/s",
    ["operation", "concurrency", "spans (records)/s", "p50 ms", "p99 ms", "ratio to JSON records"], textColumns: 1, otlpRows);
Table.Print($"Catalog at run time: two silos with Redis ({configuration}); targets: every silo serves an edit within 1 s, a decision's compute under 500 µs",
    ["models", "measure", "count", "p50", "p90", "max"], textColumns: 2, catalogRows);
if (footprint)
{
    LiveStateFootprint.Print();
    LiveStateFootprint.Print(instances: 1);
    Table.Print("One retained record of the recent-record log (50,000 records in each of 10 models; Redis: 20,000 in one)",
        ["where", "cost per record", "target"], textColumns: 1, await RecordLogFootprint.RunAsync());
}

public sealed record Result(string Mode, string Operation, int Concurrency, int RecordsPerCall, double CallsPerSecond, double P50Micros, double P99Micros, Result? Baseline)
{
    /// <summary>CPU per call in the silo process and in this (client) process, where measured; NaN otherwise.</summary>
    public double SiloCpuMicros { get; init; } = double.NaN;
    public double ClientCpuMicros { get; init; } = double.NaN;

    public double RecordsPerSecond => CallsPerSecond * RecordsPerCall;
}

/// <summary>A Markdown table under its title, printed only when it has rows; the first <c>textColumns</c> are left-aligned.</summary>
public static class Table
{
    public static void Print(string title, IReadOnlyList<string> columns, int textColumns, IReadOnlyList<string> rows)
    {
        if (rows.Count == 0) return;
        Console.WriteLine();
        Console.WriteLine(title);
        Console.WriteLine();
        Console.WriteLine($"| {string.Join(" | ", columns)} |");
        Console.WriteLine($"|{string.Join("|", columns.Select((_, i) => i < textColumns ? "---" : "---:"))}|");
        foreach (var row in rows) Console.WriteLine(row);
    }
}

public static class Load
{
    /// <summary>Runs <paramref name="concurrency"/> callers in a closed loop: a warm-up second, then the measured span.</summary>
    public static async Task<Result> RunAsync(string mode, string operation, int concurrency, int recordsPerCall, double seconds,
        Func<int, Task> call, Result? baseline = null)
    {
        await RunLoopAsync(concurrency, TimeSpan.FromSeconds(1), call, null);
        var latencies = new List<long>[concurrency];
        for (var i = 0; i < concurrency; i++) latencies[i] = new List<long>(4096);
        var watch = Stopwatch.StartNew();
        await RunLoopAsync(concurrency, TimeSpan.FromSeconds(seconds), call, latencies);
        var result = Measured(mode, operation, concurrency, recordsPerCall, latencies, watch.Elapsed.TotalSeconds, baseline);
        Console.Error.WriteLine($"[{mode}] {operation} x{concurrency}: {result.CallsPerSecond:N0} calls/s, p50 {result.P50Micros:N0} µs");
        return result;
    }

    /// <summary>The rate and latency percentiles of the calls timed in <paramref name="latencies"/> (one list per caller).</summary>
    private static Result Measured(string mode, string operation, int concurrency, int recordsPerCall, List<long>[] latencies, double elapsedSeconds,
        Result? baseline)
    {
        var all = latencies.SelectMany(l => l).Order().ToArray();
        double Percentile(double q) => all.Length == 0 ? double.NaN : all[(int)Math.Floor(q * (all.Length - 1))] * 1e6 / Stopwatch.Frequency;
        return new Result(mode, operation, concurrency, recordsPerCall, all.Length / elapsedSeconds, Percentile(0.5), Percentile(0.99), baseline);
    }

    /// <summary>
    /// Runs the operations in turn, a slice each, round after round, so that the drift of a noisy machine falls on all of
    /// them alike; the first operation is the baseline of the others.
    /// </summary>
    public static async Task<List<Result>> InterleavedAsync(string mode, int concurrency, double seconds, int rounds,
        IReadOnlyList<(string Operation, Func<int, Task> Call)> operations, Func<TimeSpan> siloCpu)
    {
        var self = Process.GetCurrentProcess();
        var siloUsed = new TimeSpan[operations.Count];
        var clientUsed = new TimeSpan[operations.Count];
        foreach (var (_, call) in operations) await RunLoopAsync(concurrency, TimeSpan.FromSeconds(0.5), call, null);
        var latencies = operations.Select(_ => Enumerable.Range(0, concurrency).Select(_ => new List<long>(4096)).ToArray()).ToArray();
        var elapsed = new double[operations.Count];
        for (var round = 0; round < rounds; round++)
        {
            for (var i = 0; i < operations.Count; i++)
            {
                var (silo0, client0) = (siloCpu(), self.TotalProcessorTime);
                var watch = Stopwatch.StartNew();
                await RunLoopAsync(concurrency, TimeSpan.FromSeconds(seconds / rounds), operations[i].Call, latencies[i]);
                elapsed[i] += watch.Elapsed.TotalSeconds;
                self.Refresh();
                siloUsed[i] += siloCpu() - silo0;
                clientUsed[i] += self.TotalProcessorTime - client0;
            }
        }
        var results = new List<Result>();
        for (var i = 0; i < operations.Count; i++)
        {
            var calls = latencies[i].Sum(l => l.Count);
            var result = Measured(mode, operations[i].Operation, concurrency, 0, latencies[i], elapsed[i], i == 0 ? null : results[0]) with
            {
                SiloCpuMicros = siloUsed[i].TotalMicroseconds / calls,
                ClientCpuMicros = clientUsed[i].TotalMicroseconds / calls,
            };
            Console.Error.WriteLine($"[{mode}] {result.Operation} x{concurrency}: {result.CallsPerSecond:N0} calls/s, p50 {result.P50Micros:N0} µs, CPU per call: silo {result.SiloCpuMicros:0.0} µs, client {result.ClientCpuMicros:0.0} µs");
            results.Add(result);
        }
        return results;
    }

    private static Task RunLoopAsync(int concurrency, TimeSpan span, Func<int, Task> call, List<long>[]? latencies)
    {
        var end = Stopwatch.GetTimestamp() + (long)(span.TotalSeconds * Stopwatch.Frequency);
        return Task.WhenAll(Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            while (true)
            {
                var start = Stopwatch.GetTimestamp();
                if (start >= end) return;
                await call(worker);
                latencies?[worker].Add(Stopwatch.GetTimestamp() - start);
            }
        })));
    }
}