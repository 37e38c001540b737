using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kyros.Perf.Client;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// A soak: an embedded silo (its recent-record log in process, retention shortened to <see cref="Retention"/>) under
/// moderate, steady load of records, routing decisions and generations for longer than the retention; after warm-up,
/// once the log is full, its working set and activation count are sampled and must stay flat (under 10 % growth).
/// </summary>
public static class SoakLoad
{
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(3);
    private const int RecordsPerSecond = 500;
    private const int DecisionsPerSecond = 100;
    private const int GenerationsPerSecond = 20;
    private static readonly string[] Models = ["gpt-4", "gpt-3.5-turbo", "claude", "gemini-pro", "local-llama"];

    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, double minutes)
    {
        var work = Directory.CreateTempSubdirectory("kyros-soak-").FullName;
        await using var bench = await BenchSilo.StartAsync(siloDll, work,
            [$"--Kyros:RecentRecords:Retention={Retention}", "--Kyros:Gateway:SimulationTimeScale=0.01"]);
        var silo = bench.Process;
        using var host = await bench.ConnectAsync();
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        var management = host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
        using var web = new HttpClient { BaseAddress = new Uri(bench.HttpUrl) };

        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
        var errors = 0L;
        var counts = new long[3];
        long sequence = 0;
        async Task Paced(int perSecond, int index, Func<Task> operation)
        {
            // Ten ticks a second, each sending its share: steady, moderate demand rather than a closed loop at full speed.
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            try
            {
                while (await timer.WaitForNextTickAsync(stop.Token))
                    await Task.WhenAll(Enumerable.Range(0, perSecond / 10).Select(async _ =>
                    {
                        try
                        {
                            await operation();
                            Interlocked.Increment(ref counts[index]);
                        }
                        catch (Exception exception) when (exception is not OperationCanceledException)
                        {
                            if (Interlocked.Increment(ref errors) <= 5) Console.Error.WriteLine($"[soak] {exception.GetType().Name}: {exception.Message}");
                        }
                    }));
            }
            catch (OperationCanceledException)
            {
            }
        }
        var load = Task.WhenAll(
            Paced(RecordsPerSecond / 10, 0, () =>
            {
                var model = Models[Interlocked.Increment(ref sequence) % Models.Length];
                var batch = Enumerable.Range(0, 10).Select(i => new ModelPerformanceRecord(model, "soak", DateTimeOffset.UtcNow, 0.3 + (i * 37 % 100) / 100.0, 0.1,
                    200, 300, i != 9, i == 9 ? "timeout" : null, 0.002, null, $"soak-{Guid.NewGuid():N}")).ToArray();
                return client.RecordBatchAsync(batch);
            }),
            Paced(DecisionsPerSecond, 1, () => client.RouteAsync(new RoutingRequest(new RequestFeatures { EstimatedTokens = 500 }) { Detail = RoutingDetail.Summary })),
            Paced(GenerationsPerSecond, 2, async () =>
            {
                var model = Models[Interlocked.Increment(ref sequence) % Models.Length];
                using var response = await web.PostAsync("/v1/chat/completions", new StringContent(
                    $$"""{"model": "{{model}}", "messages": [{"role": "user", "content": "Say ok."}], "max_tokens": 16}""", Encoding.UTF8, "application/json"));
                response.EnsureSuccessStatusCode();
            }));

        // Samples every 30 s, each after a full collection in the silo, so that they compare what is held, not when the GC last ran.
        var samples = new List<(TimeSpan At, long WorkingSet, int Activations)>();
        var clock = Stopwatch.StartNew();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var hosts = await management.GetHosts(onlyActive: true);
            await management.ForceGarbageCollection([.. hosts.Keys]);
            samples.Add((clock.Elapsed, silo.WorkingSetBytes, await management.GetTotalActivationCount()));
            Console.Error.WriteLine($"[soak] {clock.Elapsed:mm\\:ss} working set {samples[^1].WorkingSet / 1048576.0:N0} MiB, {samples[^1].Activations} activations, " +
                $"{counts[0] * 10:N0} records, {counts[1]:N0} decisions, {counts[2]:N0} generations, {errors} errors");
        }
        await load;
        await host.StopAsync();

        // Warm-up: the retention (the log fills) plus a minute.
        var steady = samples.Where(s => s.At >= Retention + TimeSpan.FromMinutes(1)).ToList();
        var rows = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"| load over {minutes:0.#} min | {counts[0] * 10:N0} records, {counts[1]:N0} routing decisions, {counts[2]:N0} generations, {errors} errors | - |"),
        };
        rows.AddRange(samples.Select(s => string.Create(CultureInfo.InvariantCulture,
            $"| at {s.At:mm\\:ss}{(s.At < Retention + TimeSpan.FromMinutes(1) ? " (warm-up)" : "")} | {s.WorkingSet / 1048576.0:N0} MiB, {s.Activations:N0} activations | - |")));
        if (steady.Count >= 2)
        {
            var memoryGrowth = (double)steady[^1].WorkingSet / steady[0].WorkingSet - 1;
            var activationGrowth = (double)steady[^1].Activations / steady[0].Activations - 1;
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"| working set growth after warm-up | {memoryGrowth:+0.0%;-0.0%} | {(memoryGrowth < 0.10 ? "under 10 %: met" : "under 10 %: **missed**")} |"));
            rows.Add(string.Create(CultureInfo.InvariantCulture, $"| activation growth after warm-up | {activationGrowth:+0.0%;-0.0%} | {(activationGrowth < 0.10 ? "under 10 %: met" : "under 10 %: **missed**")} |"));
        }
        return rows;
    }
}
