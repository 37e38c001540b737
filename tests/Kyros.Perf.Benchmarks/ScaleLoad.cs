using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// Many models and hosts in one silo (records in Redis, as in a cluster): a day of traffic per model, its older minutes
/// folded into hours, then the silo's working set per model and per host, the cluster summary over 1,000 models and one
/// model's 24 h summary.
/// </summary>
public static class ScaleLoad
{
    /// <summary>Over the last 2 h a record every 2 minutes; before that, to 23.5 h back, one every 30 minutes.</summary>
    private static readonly int RecordsPerModel = 60 + 43;

    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, int models, int hosts, bool summaries)
    {
        var rows = new List<string>();
        var work = Directory.CreateTempSubdirectory("kyros-scale-").FullName;
        var redisPort = ChildProcess.FreePort();
        await using var redis = ChildProcess.Start("redis", "redis-server", ["--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", work]);
        await ChildProcess.WaitForPortAsync(redisPort, TimeSpan.FromSeconds(10));
        var catalog = System.Text.Json.Nodes.JsonNode.Parse(RoutingLoad.CatalogJson(models))!["Kyros"]!["Catalog"]!.ToJsonString();
        File.WriteAllText(Path.Combine(work, "catalog.json"), catalog);
        await using var bench = await BenchSilo.StartAsync(siloDll, work,
            [$"--Kyros:Redis=127.0.0.1:{redisPort}", $"--Kyros:Catalog:File={Path.Combine(work, "catalog.json")}", "--Kyros:Resources:SampleLocalHost=false"]);
        var silo = bench.Process;
        using var host = await bench.ConnectAsync(redis: $"127.0.0.1:{redisPort}");
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        var grains = host.Services.GetRequiredService<IClusterClient>();
        var management = grains.GetGrain<IManagementGrain>(0);

        // The baseline: a silo that has served a little of everything measured here.
        await SeedModelsAsync(client, Math.Min(models, 20), DateTimeOffset.UtcNow);
        await client.GetClusterSummaryAsync(TimeSpan.FromHours(1));
        var baseline = await SettledMemoryAsync(management, silo);

        var withHosts = baseline;
        if (hosts > 0)
        {
            await SeedHostsAsync(client, hosts);
            withHosts = await SettledMemoryAsync(management, silo);
            rows.Add(Row(models, $"per host ({hosts:N0} hosts, an hour of samples each): working set / GC memory",
                $"{Kib((withHosts.WorkingSet - baseline.WorkingSet) / (double)hosts)} / {Kib((withHosts.Managed - baseline.Managed) / (double)hosts)}", "-"));
        }

        var seeding = Stopwatch.StartNew();
        var now = DateTimeOffset.UtcNow;
        await SeedModelsAsync(client, models, now);
        Console.Error.WriteLine($"[scale/{models}] seeded {models:N0} models x {RecordsPerModel} records in {seeding.Elapsed.TotalSeconds:0.0} s");
        await WaitForFoldingAsync(grains, models);
        Console.Error.WriteLine($"[scale/{models}] minutes older than 2 h folded into hours after {seeding.Elapsed.TotalSeconds:0.0} s");
        var withModels = await SettledMemoryAsync(management, silo);
        var activations = await management.GetTotalActivationCount();
        rows.Add(Row(models, "per active model (a day of traffic, folded): working set / GC memory",
            $"{Kib((withModels.WorkingSet - withHosts.WorkingSet) / (double)models)} / {Kib((withModels.Managed - withHosts.Managed) / (double)models)}", "-"));
        rows.Add(Row(models, "activations", activations.ToString("N0", CultureInfo.InvariantCulture), "-"));
        rows.Add(Row(models, "silo working set / GC memory: at start", $"{Mib(baseline.WorkingSet)} / {Mib(baseline.Managed)}", "-"));
        rows.Add(Row(models, $"silo working set / GC memory: with {models:N0} models and {hosts:N0} hosts", $"{Mib(withModels.WorkingSet)} / {Mib(withModels.Managed)}",
            hosts > 0 ? Met(withModels.WorkingSet < 1L << 30, "working set under 1 GiB") : "-"));

        if (summaries)
        {
            var ping = grains.GetGrain<IPingGrain>(0);
            var noop = await TimeAsync(200, async () => { await ping.PingAsync(); return 0; });
            var one = await TimeAsync(200, () => client.GetSummaryAsync("model-0007", TimeWindow.Max));
            rows.Add(Row(models, "no-op grain call, p50 (reference)", Ms(noop.P50), "-"));
            rows.Add(Row(models, "one model's 24 h summary through the SDK, p50 / p99", $"{Ms(one.P50)} / {Ms(one.P99)}", Met(one.P50 < 1, "under 1 ms")));
            foreach (var window in new[] { TimeSpan.FromHours(1), TimeWindow.Max })
            {
                var cluster = await TimeAsync(20, () => client.GetClusterSummaryAsync(window));
                rows.Add(Row(models, $"cluster summary over {models:N0} models, {TimeWindow.Format(window)}, p50 / max", $"{Ms(cluster.P50)} / {Ms(cluster.Max)}",
                    models == 1000 ? Met(cluster.P50 < 50, "under 50 ms") : "-"));
            }
        }
        await host.StopAsync();
        return rows;
    }

    private static string Row(int models, string measure, string value, string target) => $"| {models:N0} | {measure} | {value} | {target} |";

    private static string Met(bool met, string target) => $"{target}: {(met ? "met" : "**missed**")}";

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:N0} MiB");

    private static string Kib(double bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024:N1} KiB");

    private static string Ms(double ms) => string.Create(CultureInfo.InvariantCulture, $"{ms:N2} ms");

    /// <summary>
    /// The working set and the managed memory in use (Orleans' runtime statistics: the GC heap, fragmentation included),
    /// after full collections in the silo and a moment for the runtime to hand memory back.
    /// </summary>
    private static async Task<Memory> SettledMemoryAsync(IManagementGrain management, ChildProcess silo)
    {
        var hosts = (await management.GetHosts(onlyActive: true)).Keys.ToArray();
        // Until two readings 10 s apart agree within 1 %: the GC hands freed regions back a little at a time, and a burst
        // (a day of records at once) leaves a great deal behind.
        Memory? last = null;
        for (var i = 0; i < 30; i++)
        {
            await management.ForceGarbageCollection(hosts);
            await Task.Delay(TimeSpan.FromSeconds(10));
            var statistics = await management.GetRuntimeStatistics(hosts);
            var now = new Memory(silo.WorkingSetBytes, statistics.Sum(s => s.EnvironmentStatistics.RawMemoryUsageBytes));
            if (last is not null && Math.Abs(now.Managed - last.Managed) < 0.01 * last.Managed && Math.Abs(now.WorkingSet - last.WorkingSet) < 0.01 * last.WorkingSet) return now;
            last = now;
        }
        return last!;
    }

    private sealed record Memory(long WorkingSet, long Managed);

    private static async Task<(double P50, double P99, double Max)> TimeAsync<T>(int calls, Func<Task<T>> call)
    {
        for (var i = 0; i < Math.Min(calls, 10); i++) await call();
        var times = new double[calls];
        for (var i = 0; i < calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await call();
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[(calls - 1) / 2], times[(int)((calls - 1) * 0.99)], times[^1]);
    }

    private static Task SeedModelsAsync(KyrosPerfClient client, int models, DateTimeOffset now) =>
        Parallel.ForEachAsync(Enumerable.Range(0, models), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (model, _) =>
        {
            var id = $"model-{model:D4}";
            var records = new List<ModelPerformanceRecord>(RecordsPerModel);
            var random = new Random(model);
            for (var i = 0; i < RecordsPerModel; i++)
            {
                var ago = i < 43 ? TimeSpan.FromMinutes(23.5 * 60 - i * 30) : TimeSpan.FromMinutes(2 * (RecordsPerModel - i));
                var latency = Math.Round((0.5 + model % 11 * 0.2) * Math.Exp(0.3 * (random.NextDouble() - 0.5)), 4);
                records.Add(new ModelPerformanceRecord(id, $"{id}-a", now - ago, latency, Math.Round(latency / 5, 4), 400, 200, i % 50 != 7,
                    i % 50 == 7 ? "timeout" : null, 0.001, null, $"scale-{model}-{i}-{now.Ticks}"));
            }
            await client.RecordBatchAsync(records);
        });

    /// <summary>
    /// Until every model holds no more than the last 2 h as minutes: its older minutes are in history (the burst of a day's
    /// writes has drained) and folded into hours, as in a silo that has run for a day.
    /// </summary>
    private static async Task WaitForFoldingAsync(IClusterClient grains, int models)
    {
        var all = Enumerable.Range(0, models).Select(i => grains.GetGrain<IModelStatsGrain>($"model-{i:D4}")).ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (DateTime.UtcNow < deadline)
        {
            var folded = 0;
            foreach (var chunk in all.Chunk(500))
                folded += (await Task.WhenAll(chunk.Select(g => g.GetInfoAsync()))).Count(i => i.MinuteBuckets <= 121 && i.HourBuckets > 0);
            if (folded == models) return;
            await Task.Delay(2000);
        }
        throw new TimeoutException("the models' older minutes were not folded into hours within 10 minutes");
    }

    /// <summary>Every host's last hour, a sample every 30 s, in one call per host.</summary>
    private static Task SeedHostsAsync(KyrosPerfClient client, int hosts)
    {
        var start = DateTimeOffset.UtcNow - TimeSpan.FromMinutes(59);
        return Parallel.ForEachAsync(Enumerable.Range(0, hosts), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (host, _) =>
        {
            var node = $"host-{host:D4}";
            var samples = new ResourceSample[118];
            for (var k = 0; k < samples.Length; k++)
            {
                var wobble = (k * 31 + host * 17) % 7 - 3;
                samples[k] = new ResourceSample
                {
                    Node = node,
                    Timestamp = start + TimeSpan.FromSeconds(30 * k),
                    CpuPercent = 30 + host % 5 * 5 + wobble,
                    MemoryPercent = 40 + host % 4 * 5 + wobble,
                    MemoryUsedBytes = (64L << 30) / 100 * (40 + wobble),
                    MemoryTotalBytes = 64L << 30,
                    Disks = [new DiskSample("/", (250L << 30) + k * (1L << 20), 500L << 30)],
                    Networks = [new NetworkSample("eth0", 2e7 + wobble * 1e6, 1e7 + wobble * 1e6, 1.25e9)],
                    TcpConnections = 200 + wobble * 10,
                };
            }
            await client.PushSamplesAsync(node, samples);
        });
    }
}
