using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Processes;

/// <summary>The run-time catalog across two real silo processes on Redis, over HTTP: what one silo changes, the other serves.</summary>
public sealed class CatalogProcessTests(RedisServer redis)
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(1);
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task A_change_through_one_silo_is_served_by_the_other_within_a_second_and_survives_a_restart_of_the_cluster()
    {
        var serviceId = $"cat-{Guid.NewGuid():N}"[..16];
        string[] settings = ["--Kyros:Catalog:RemovalGrace=00:00:03", "--Kyros:Gateway:SimulationTimeScale=0.01", "--Kyros:ModelStats:CheckpointInterval=00:00:01"];
        var directories = new[] { "cat-a", "cat-b" }.Select(n => Directory.CreateTempSubdirectory($"kyros-{n}-").FullName).ToArray();
        var silos = await StartAsync(serviceId, directories, settings);
        try
        {
            var (a, b) = (silos[0].HttpUrl, silos[1].HttpUrl);

            // Configuration seeded the fresh cluster.
            var first = await _http.GetFromJsonAsync<JsonElement>($"{b}/v1/models");
            Assert.Equal(Kyros.Perf.Catalog.DefaultCatalog.Create().Select(m => m.Id), Ids(first));

            // Added through A: B routes to it and takes records for it within a second of A's answer.
            using var added = await Send(HttpMethod.Post, $"{a}/v1/models", new
            {
                id = "vllm-new", provider = "simulated", input_price_per1k = 0.01, output_price_per1k = 0.02,
                simulation = new { error_rate = 0.0, ttft_median_seconds = 0.1, tokens_per_second = 1000 },
            });
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            var tag = added.Headers.ETag!.Tag;
            var clock = Stopwatch.StartNew();
            await Eventually.UntilAsync(() => Route(b, "vllm-new"), status => status == HttpStatusCode.OK, Propagation);
            Assert.True(clock.Elapsed < Propagation, $"B routed to the new model after {clock.Elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(1, (await PostRecord(b, "vllm-new")).GetProperty("recorded").GetInt32());

            // A new price reaches the cost B's gateway records.
            var before = await Generate(b, "vllm-new");
            Assert.Equal(Cost(before, 0.01, 0.02), before.GetProperty("cost").GetDouble(), 12);
            using var patched = await Send(HttpMethod.Patch, $"{a}/v1/models/vllm-new", new { input_price_per1k = 1.0, output_price_per1k = 2.0 }, tag);
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            await Eventually.UntilAsync(() => _http.GetFromJsonAsync<JsonElement>($"{b}/v1/models"),
                m => m.GetProperty("models").EnumerateArray().Any(x => x.GetProperty("id").GetString() == "vllm-new" && x.GetProperty("input_price_per1k").GetDouble() == 1.0),
                Propagation);
            var after = await Generate(b, "vllm-new");
            Assert.Equal(Cost(after, 1.0, 2.0), after.GetProperty("cost").GetDouble(), 12);
            var recorded = await Eventually.UntilAsync(() => _http.GetFromJsonAsync<JsonElement>($"{a}/v1/performance/models/vllm-new/records"),
                r => r.GetProperty("records").EnumerateArray().Any(x => x.GetProperty("request_id").GetString() == after.GetProperty("request_id").GetString()));
            Assert.Equal(after.GetProperty("cost").GetDouble(),
                recorded.GetProperty("records").EnumerateArray().First(x => x.GetProperty("request_id").GetString() == after.GetProperty("request_id").GetString()).GetProperty("cost").GetDouble(), 12);

            // Two operators: the one who read before the other's change gets 412, and the model keeps the change made.
            using var stale = await Send(HttpMethod.Patch, $"{b}/v1/models/vllm-new", new { input_price_per1k = 5.0 }, tag);
            Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
            Assert.Equal("If-Match", (await stale.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
            using var current = await _http.GetAsync($"{b}/v1/models/vllm-new");
            Assert.Equal(patched.Headers.ETag!.Tag, current.Headers.ETag!.Tag);
            Assert.Equal(1.0, (await current.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("input_price_per1k").GetDouble());

            // Every bad field is refused naming it, through either silo, and the catalog's version stays.
            var version = (await _http.GetFromJsonAsync<JsonElement>($"{a}/v1/models")).GetProperty("version").GetInt64();
            foreach (var (body, field) in BadModels())
            {
                using var refused = await Send(HttpMethod.Post, $"{b}/v1/models", body);
                Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
                Assert.Equal(field, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
            }
            using (var badPatch = await Send(HttpMethod.Patch, $"{b}/v1/models/vllm-new", new { quality_prior = 2 }))
                Assert.Equal("quality_prior", (await badPatch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
            using (var duplicate = await Send(HttpMethod.Post, $"{a}/v1/models", new { id = "gpt-4" }))
                Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
            Assert.Equal(version, (await _http.GetFromJsonAsync<JsonElement>($"{a}/v1/models")).GetProperty("version").GetInt64());

            // Removed through B: A stops routing to it at once, takes records through the grace period, then refuses them; its figures stay.
            using var removed = await Send(HttpMethod.Delete, $"{b}/v1/models/vllm-new", null);
            Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
            var removedAt = Stopwatch.StartNew();
            await Eventually.UntilAsync(() => Route(a, "vllm-new"), status => status == HttpStatusCode.BadRequest, Propagation);
            Assert.Equal(1, (await PostRecord(a, "vllm-new")).GetProperty("recorded").GetInt32());
            await Task.Delay(TimeSpan.FromSeconds(3.5) - removedAt.Elapsed);
            foreach (var silo in new[] { a, b })
            {
                using var late = await _http.PostAsJsonAsync($"{silo}/v1/performance/records", RecordBody("vllm-new"));
                Assert.Equal(HttpStatusCode.NotFound, late.StatusCode);
                Assert.Equal("model", (await late.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
                var summary = await _http.GetFromJsonAsync<JsonElement>($"{silo}/v1/performance/models/vllm-new?window=1h");
                Assert.Equal(4, summary.GetProperty("count").GetInt64());
                using var history = await _http.GetAsync($"{silo}/v1/performance/models/vllm-new/history");
                Assert.Equal(HttpStatusCode.OK, history.StatusCode);
            }

            var changes = await _http.GetFromJsonAsync<JsonElement>($"{a}/v1/models/changes");
            Assert.Equal(["removed", "updated", "added", "seeded"],
                changes.GetProperty("changes").EnumerateArray().Select(c => c.GetProperty("action").GetString()));
            Assert.All(changes.GetProperty("changes").EnumerateArray().Take(3), c => Assert.Equal("http 127.0.0.1", c.GetProperty("actor").GetString()));
            var catalogBefore = (await _http.GetFromJsonAsync<JsonElement>($"{a}/v1/models")).GetRawText();

            // The whole cluster restarts with another configuration: the stored catalog wins.
            foreach (var silo in silos) await silo.StopGracefullyAsync(TimeSpan.FromSeconds(30));
            silos = await StartAsync(serviceId, directories, [.. settings, "--Kyros:Catalog:Models:0:Id=only-in-configuration"]);
            foreach (var silo in silos)
                Assert.Equal(catalogBefore, (await _http.GetFromJsonAsync<JsonElement>($"{silo.HttpUrl}/v1/models")).GetRawText());
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    private async Task<SiloProcess[]> StartAsync(string serviceId, string[] directories, string[] settings) =>
        await Task.WhenAll(directories.Select((d, i) => SiloProcess.StartAsync(redis.ConnectionString, serviceId, $"cat-{i}", d, settings)));

    private static IEnumerable<(object Body, string Field)> BadModels()
    {
        yield return (new { id = "x", input_price_per1k = -1 }, "input_price_per1k");
        yield return (new { id = "x", output_price_per1k = "cheap" }, "output_price_per1k");
        yield return (new { id = "x", provider = "carrier-pigeon" }, "provider");
        yield return (new { id = "x", provider = "openai-compatible", endpoint = "http://user:key@127.0.0.1:1/v1" }, "endpoint");
        yield return (new { id = "x", provider = "openai-compatible", endpoint = "http://127.0.0.1:1/v1?api_key=k" }, "endpoint");
        yield return (new { id = "x", context_window = 0 }, "context_window");
        yield return (new { id = "x", max_output_tokens = 0 }, "max_output_tokens");
        yield return (new { id = "x", quality_prior = 1.5 }, "quality_prior");
        yield return (new { id = "x", latency_prior = 0 }, "latency_prior");
        yield return (new { id = "x", requests_per_minute = 0 }, "requests_per_minute");
        yield return (new { id = "x", tokens_per_minute = -1 }, "tokens_per_minute");
        yield return (new { id = "x", capabilities = new { reasoning = 1.5 } }, "capabilities.reasoning");
        yield return (new { id = "x", capabilities = new { creativity = -0.1 } }, "capabilities.creativity");
        yield return (new { id = "x", tokenizer = "p50k" }, "tokenizer");
        yield return (new { id = "x", api_key = "sk-secret" }, "api_key");
        yield return (new { id = "" }, "id");
        yield return (new { id = "changes" }, "id");
    }

    private static string[] Ids(JsonElement catalog) => [.. catalog.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];

    private static double Cost(JsonElement generated, double input, double output)
    {
        var usage = generated.GetProperty("usage");
        return (usage.GetProperty("input_tokens").GetInt64() * input + usage.GetProperty("output_tokens").GetInt64() * output) / 1000;
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string url, object? body, string? ifMatch = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
        if (ifMatch is not null) request.Headers.IfMatch.Add(new EntityTagHeaderValue(ifMatch));
        return await _http.SendAsync(request);
    }

    private async Task<HttpStatusCode> Route(string silo, string model)
    {
        using var response = await _http.PostAsJsonAsync($"{silo}/v1/models/route", new { available_models = new[] { model }, strategy = "balanced" });
        return response.StatusCode;
    }

    private static object RecordBody(string model) => new
    {
        model, execution_time = 0.5, input_tokens = 10, output_tokens = 20, cost = 0.001, success = true, request_id = $"cat-{Guid.NewGuid():N}",
    };

    private async Task<JsonElement> PostRecord(string silo, string model)
    {
        using var response = await _http.PostAsJsonAsync($"{silo}/v1/performance/records", RecordBody(model));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> Generate(string silo, string model)
    {
        using var response = await _http.PostAsJsonAsync($"{silo}/v1/models/generate", new { model, prompt = "Say something brief.", max_tokens = 30 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
