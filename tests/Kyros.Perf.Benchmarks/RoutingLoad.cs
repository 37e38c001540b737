using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Benchmarks;

/// <summary>Routing decisions through the external client over 5, 50 and 1,000 candidates, against the no-op call.</summary>
public static class RoutingLoad
{
    /// <summary>A model like model-0000 with request and token limits no benchmark reaches: what spending a lease costs a decision.</summary>
    public const string Limited = "limited-0000";

    /// <summary>A silo configuration with <paramref name="count"/> models and <see cref="Limited"/> (written as the silo's appsettings.json).</summary>
    public static string CatalogJson(int count)
    {
        var models = Enumerable.Range(0, count).Select(i => new Dictionary<string, object>
        {
            ["Id"] = $"model-{i:D4}",
            ["InputPricePer1k"] = 0.0005 + i % 7 * 0.002,
            ["OutputPricePer1k"] = 0.0015 + i % 5 * 0.004,
            ["ContextWindow"] = 32_000 + i % 3 * 32_000,
            ["LatencyPrior"] = 0.5 + i % 11 * 0.2,
            ["QualityPrior"] = 0.6 + i % 9 * 0.04,
            ["Capabilities"] = new Dictionary<string, object> { ["Code"] = i % 2 == 0, ["Vision"] = i % 3 == 0, ["Tools"] = true, ["Reasoning"] = 0.5 + i % 5 * 0.1, ["Creativity"] = 0.5 + i % 4 * 0.1 },
        });
        var limited = new Dictionary<string, object>(models.First()) { ["Id"] = Limited, ["RequestsPerMinute"] = 1_000_000_000, ["TokensPerMinute"] = 1_000_000_000_000 };
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Kyros"] = new Dictionary<string, object> { ["Catalog"] = new Dictionary<string, object> { ["Models"] = models.Append(limited).ToArray() } },
        });
    }

    public static async Task<List<Result>> RunAsync(KyrosPerfClient client, IClusterClient grains, double seconds, Func<TimeSpan> siloCpu)
    {
        // Live statistics for the first 50 models, so decisions blend samples with priors.
        for (var i = 0; i < 50; i++)
        {
            var model = $"model-{i:D4}";
            await client.RecordBatchAsync(Enumerable.Range(0, 200).Select(r => new ModelPerformanceRecord(model, null, DateTimeOffset.UtcNow,
                0.3 + (i * 7 + r) % 40 / 20.0, 0.1, 100, 200, r % 25 != 0, r % 25 == 0 ? "timeout" : null, 0.001, 0.8, $"seed-{i}-{r}")).ToArray());
        }
        await Task.Delay(1500); // two snapshot intervals: every silo's table holds them

        var results = new List<Result>();
        // References resolved once, as the SDK resolves the router's: the baseline is the cheapest no-op call.
        var pings = Enumerable.Range(0, 5).Select(i => grains.GetGrain<IPingGrain>(i)).ToArray();
        var router = grains.GetGrain<IRouterGrain>(0);
        var computeNotes = new List<string>();
        var cases = new[] { (5, RoutingDetail.Summary), (50, RoutingDetail.Summary), (50, RoutingDetail.Full), (1000, RoutingDetail.Summary) };
        foreach (var concurrency in new[] { 1, 16, 256 })
        {
            var operations = new List<(string, Func<int, Task>)>
            {
                ("no-op grain call", w => pings[w % 5].PingAsync()),
                // The router's own cheapest call: what the stateless worker path costs before any decision.
                ("router SettleAsync (no decision)", _ => router.SettleAsync("model-0000", 0, 0)),
            };
            var computes = new List<(string Label, List<double>[] PerWorker)>();
            foreach (var (size, detail) in cases)
            {
                var request = Request(size, detail);
                var label = $"{size} models, {(detail == RoutingDetail.Full ? "full table" : "summary")}";
                var compute = Enumerable.Range(0, concurrency).Select(_ => new List<double>(1024)).ToArray();
                computes.Add((label, compute));
                operations.Add(($"SelectModelAsync ({label})", async w =>
                {
                    var decision = await router.SelectModelAsync(request);
                    compute[w].Add(decision.ComputeMicroseconds);
                }));
            }
            // One candidate, without and with a rate limit: the limited one spends its silo's lease (RateLimiter) in every decision.
            foreach (var model in new[] { "model-0000", Limited })
            {
                var single = new RoutingRequest(new RequestFeatures { EstimatedTokens = 800 }, [model], RoutingStrategy.Adaptive) { Detail = RoutingDetail.Summary };
                operations.Add(($"SelectModelAsync (1 model, {(model == Limited ? "rate-limited" : "no limit")})", _ => router.SelectModelAsync(single)));
            }
            // The SDK's RouteAsync: validated on the client, and coalesced into SelectModelsAsync when calls overlap.
            foreach (var (size, detail) in cases.Where(c => c.Item2 == RoutingDetail.Summary))
            {
                var request = Request(size, detail);
                operations.Add(($"SDK RouteAsync ({size} models, summary)", _ => client.RouteAsync(request)));
            }
            results.AddRange(await Load.InterleavedAsync("routing", concurrency, seconds, Rounds, operations, siloCpu));
            foreach (var (label, compute) in computes)
            {
                var all = compute.SelectMany(c => c).Order().ToArray();
                computeNotes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {label} | {concurrency} | {all[all.Length / 2]:0.0} | {all[(int)(all.Length * 0.99)]:0.0} |"));
            }
        }
        ComputeTable = computeNotes;
        return results;
    }

    /// <summary>An adaptive request for 800 tokens over the first <paramref name="size"/> models (the whole catalog for 1,000).</summary>
    private static RoutingRequest Request(int size, RoutingDetail detail) =>
        new(new RequestFeatures { EstimatedTokens = 800, ReasoningRequirement = 0.6 },
            size == 1000 ? null : Enumerable.Range(0, size).Select(i => $"model-{i:D4}").ToArray(), RoutingStrategy.Adaptive) { Detail = detail };

    /// <summary>Each operation runs in this many slices, interleaved with the others.</summary>
    public const int Rounds = 6;

    /// <summary>The decision's own compute, measured inside the silo (µs), per candidate count and concurrency.</summary>
    public static IReadOnlyList<string> ComputeTable { get; private set; } = [];
}
