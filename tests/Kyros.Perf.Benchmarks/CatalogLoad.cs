using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Client;
using Kyros.Perf.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// A catalog of 10,000 models on two silos with Redis: how long an edit takes (the catalog grain stores the whole catalog),
/// how long until each silo serves it (its /healthz version), and a routing decision's compute over 1,000 named
/// candidates of it, before and right after changes.
/// </summary>
public static class CatalogLoad
{
    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, int models, int changes)
    {
        var rows = new List<string>();
        var work = Directory.CreateTempSubdirectory("kyros-catalog-").FullName;
        var redisPort = ChildProcess.FreePort();
        await using var redis = ChildProcess.Start("redis", "redis-server", ["--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", work]);
        await ChildProcess.WaitForPortAsync(redisPort, TimeSpan.FromSeconds(10));
        var catalogFile = Path.Combine(work, "catalog.json");
        File.WriteAllText(catalogFile, JsonDocument.Parse(RoutingLoad.CatalogJson(models)).RootElement.GetProperty("Kyros").GetProperty("Catalog").GetRawText());
        string[] settings = [$"--Kyros:Redis=127.0.0.1:{redisPort}", $"--Kyros:Catalog:File={catalogFile}", "--Kyros:Resources:SampleLocalHost=false"];
        await using var first = await BenchSilo.StartAsync(siloDll, Directory.CreateDirectory(Path.Combine(work, "a")).FullName, settings);
        await using var second = await BenchSilo.StartAsync(siloDll, Directory.CreateDirectory(Path.Combine(work, "b")).FullName, settings);
        using var host = await first.ConnectAsync(redis: $"127.0.0.1:{redisPort}");
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        var router = host.Services.GetRequiredService<IClusterClient>().GetGrain<IRouterGrain>(0);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        string[] silos = [first.HttpUrl, second.HttpUrl];
        var total = models + 1;
        foreach (var silo in silos) await UntilVersionAsync(http, silo, v => v.Models == total, TimeSpan.FromMinutes(2));

        var candidates = Enumerable.Range(0, 1000).Select(i => $"model-{i * (models / 1000):D4}").ToArray();
        var request = new RoutingRequest(new RequestFeatures { EstimatedTokens = 800, ReasoningRequirement = 0.6 }, candidates, RoutingStrategy.Adaptive)
            { Detail = RoutingDetail.Summary };
        var before = await ComputeAsync(router, request, 300);

        var editMs = new List<double>();
        var reachMs = new List<double>();
        for (var i = 0; i < changes; i++)
        {
            var id = $"model-{(i * 37) % models:D4}";
            var entry = (await client.GetModelAsync(id))!;
            var model = entry.Model;
            model.InputPricePer1k += 0.0001;
            var edit = Stopwatch.StartNew();
            var updated = await client.UpdateModelAsync(model, entry.Revision);
            editMs.Add(edit.Elapsed.TotalMilliseconds);
            // Each silo's own copy: the version its /healthz reports.
            var reached = await Task.WhenAll(silos.Select(async silo =>
            {
                await UntilVersionAsync(http, silo, v => v.Version >= updated.Revision, TimeSpan.FromSeconds(30));
                return edit.Elapsed.TotalMilliseconds;
            }));
            reachMs.Add(reached.Max());
        }
        var after = await ComputeAsync(router, request, 300);

        rows.Add(Row(models, "edit (UpdateModelAsync: the catalog grain stores the whole catalog), ms", editMs));
        rows.Add(Row(models, "edit until both silos serve it (their /healthz version), ms", reachMs));
        rows.Add(Row(models, "decision compute over 1,000 named candidates, before changes, µs", before));
        rows.Add(Row(models, "decision compute over 1,000 named candidates, after changes, µs", after));
        var (quiet, swapped) = InProcessCompute(models, candidates, request);
        rows.Add(Row(models, "the same decision's compute in a quiet process (RoutingEngine alone), µs", quiet));
        rows.Add(Row(models, "the same, each decision after a new catalog version, µs", swapped));
        return rows;
    }

    /// <summary>The decision alone, on this process's catalog of the same models: what the engine costs without the silos' other work.</summary>
    private static (List<double> Quiet, List<double> Swapped) InProcessCompute(int models, string[] candidates, RoutingRequest request)
    {
        var descriptors = JsonSerializer.Deserialize<ModelCatalogOptions>(
            JsonDocument.Parse(RoutingLoad.CatalogJson(models)).RootElement.GetProperty("Kyros").GetProperty("Catalog").GetRawText(),
            new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!.Models;
        var options = Microsoft.Extensions.Options.Options.Create(new RoutingOptions());
        var catalog = new ModelCatalog(Microsoft.Extensions.Options.Options.Create(new ModelCatalogOptions { Models = descriptors }));
        var health = new ModelHealthBook(options.Value);
        var snapshot = new RoutingSnapshot(null!, catalog, health, options, TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<RoutingSnapshot>.Instance);
        var engine = new RoutingEngine(catalog, snapshot, health, new RateLimiter(), options, TimeProvider.System);
        for (var i = 0; i < 500; i++) engine.Decide(request, RoutingEngine.SharedDraw);
        var quiet = new List<double>();
        for (var i = 0; i < 500; i++) quiet.Add(engine.Decide(request, RoutingEngine.SharedDraw).ComputeMicroseconds);
        // A new version before each decision: the statistics and penalties are indexed again for it, once.
        var swapped = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            catalog.Apply(new CatalogSnapshot(i + 1, [.. descriptors.Select(m => new CatalogEntry(m, i + 1))], []));
            swapped.Add(engine.Decide(request, RoutingEngine.SharedDraw).ComputeMicroseconds);
        }
        return (quiet, swapped);
    }

    private static async Task<List<double>> ComputeAsync(IRouterGrain router, RoutingRequest request, int count)
    {
        for (var i = 0; i < 300; i++) await router.SelectModelAsync(request);
        var compute = new List<double>(count);
        for (var i = 0; i < count; i++) compute.Add((await router.SelectModelAsync(request)).ComputeMicroseconds);
        return compute;
    }

    private static async Task UntilVersionAsync(HttpClient http, string silo, Func<(long Version, int Models), bool> done, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            var catalog = (await http.GetFromJsonAsync<JsonElement>($"{silo}/healthz")).GetProperty("catalog");
            if (done((catalog.GetProperty("version").GetInt64(), catalog.GetProperty("models").GetInt32()))) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{silo} did not reach the catalog version within {within}.");
            await Task.Delay(5);
        }
    }

    private static string Row(int models, string what, List<double> values)
    {
        var sorted = values.Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture,
            $"| {models:N0} | {what} | {sorted.Length} | {sorted[sorted.Length / 2]:0.0} | {sorted[(int)(sorted.Length * 0.9)]:0.0} | {sorted[^1]:0.0} |");
    }
}
