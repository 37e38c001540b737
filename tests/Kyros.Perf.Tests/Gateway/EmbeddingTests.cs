using System.Buffers.Binary;
using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Client;
using Kyros.Perf.Gateway;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Embeddings;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// A silo with two embedding models and a chat model: <c>text-embedding-3-small</c> on the simulated provider (no
/// errors), <c>remote-embed</c> on the <see cref="OpenAiTestServer"/> (as <c>text-embedding-remote</c> there), and
/// <c>echo</c> (chat) there too.
/// </summary>
public sealed class EmbeddingSilo : IAsyncLifetime
{
    public const double RemotePricePer1k = 0.0001;

    public OpenAiTestServer Backend { get; private set; } = null!;
    public HttpSilo Silo { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Backend = await OpenAiTestServer.StartAsync();
        const string echo = "--Kyros:Catalog:Models:1:", remote = "--Kyros:Catalog:Models:2:";
        Silo = await StartAsync(Backend,
            $"{echo}Id=echo", $"{echo}Provider=openai-compatible", $"{echo}Endpoint={Backend.BaseUrl}",
            $"{remote}Id=remote-embed", $"{remote}Kind=embedding", $"{remote}Provider=openai-compatible", $"{remote}Endpoint={Backend.BaseUrl}",
            $"{remote}RemoteModel=text-embedding-remote", $"{remote}InputPricePer1k={RemotePricePer1k}", $"{remote}LatencyPrior=1");
    }

    /// <summary>A silo whose catalog's first model is the simulated <c>text-embedding-3-small</c>, without errors, and then <paramref name="models"/>.</summary>
    public static Task<HttpSilo> StartAsync(OpenAiTestServer backend, params string[] models)
    {
        const string simulated = "--Kyros:Catalog:Models:0:";
        return HttpSilo.StartAsync(null, null,
        [
            "--Kyros:Gateway:RetryDelay=00:00:00.050", "--Kyros:Gateway:SimulationTimeScale=0.01",
            $"{simulated}Id=text-embedding-3-small", $"{simulated}Kind=embedding", $"{simulated}EmbeddingDimensions=1536", $"{simulated}InputPricePer1k=0.00002",
            $"{simulated}Tokenizer=cl100k", $"{simulated}LatencyPrior=0.15", $"{simulated}Simulation:ErrorRate=0",
            .. models,
        ]);
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Backend.DisposeAsync();
    }
}

/// <summary><c>POST /v1/embeddings</c>, the SDK's EmbedAsync and <c>kyros-perf embed</c>: routed, called, recorded, and refused when bad.</summary>
public sealed class EmbeddingTests(EmbeddingSilo fixture) : IClassFixture<EmbeddingSilo>
{
    private const string Simulated = "text-embedding-3-small";
    private HttpClient Http => fixture.Silo.Http;

    private EmbeddingClient OfficialClient(string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Http.BaseAddress!, "/v1") });

    private async Task<(JsonElement Body, HttpResponseMessage Response)> EmbedAsync(object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await Http.PostAsJsonAsync("/v1/embeddings", body);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {json}");
        return (json, response);
    }

    private static float[] Floats(JsonElement embedding) => [.. embedding.EnumerateArray().Select(v => v.GetSingle())];

    [Fact]
    public async Task The_official_client_gets_the_same_unit_vector_for_the_same_text_at_the_dimensions_asked()
    {
        var client = OfficialClient(Simulated);
        var first = (await client.GenerateEmbeddingAsync("the same text")).Value.ToFloats().ToArray();
        var again = (await client.GenerateEmbeddingAsync("the same text")).Value.ToFloats().ToArray();
        var other = (await client.GenerateEmbeddingAsync("another text")).Value.ToFloats().ToArray();
        Assert.Equal(1536, first.Length);
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(1, Math.Sqrt(first.Sum(v => (double)v * v)), 4);
        // The vector depends on the text alone: the same in this process as in the silo.
        Assert.Equal(SimulatedEmbeddingGenerator.Vector("the same text", 1536), first);

        var shorter = (await client.GenerateEmbeddingAsync("the same text", new EmbeddingGenerationOptions { Dimensions = 256 })).Value.ToFloats();
        Assert.Equal(256, shorter.Length);
        Assert.Equal(1, Math.Sqrt(shorter.ToArray().Sum(v => (double)v * v)), 4);

        OpenAIEmbeddingCollection batch = await client.GenerateEmbeddingsAsync(["another text", "the same text"]);
        Assert.Equal(Simulated, batch.Model);
        Assert.Equal([0, 1], batch.Select(e => e.Index));
        Assert.Equal(other, batch[0].ToFloats().ToArray());
        Assert.Equal(first, batch[1].ToFloats().ToArray());
        Assert.True(batch.Usage.InputTokenCount > 0);
        Assert.Equal(batch.Usage.InputTokenCount, batch.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Base64_is_the_same_floats_as_little_endian_bytes_and_the_answer_has_openai_shape_and_kyros_headers()
    {
        var (floats, response) = await EmbedAsync(new { model = Simulated, input = "hello", dimensions = 8 });
        var (encoded, _) = await EmbedAsync(new { model = Simulated, input = "hello", dimensions = 8, encoding_format = "base64", user = "user-1" });

        Assert.Equal("list", floats.GetProperty("object").GetString());
        Assert.Equal(Simulated, floats.GetProperty("model").GetString());
        var item = Assert.Single(floats.GetProperty("data").EnumerateArray());
        Assert.Equal(("embedding", 0), (item.GetProperty("object").GetString(), item.GetProperty("index").GetInt32()));
        var usage = floats.GetProperty("usage");
        Assert.Equal(1, usage.GetProperty("prompt_tokens").GetInt64());
        Assert.Equal(1, usage.GetProperty("total_tokens").GetInt64());
        Assert.Equal(["object", "data", "model", "usage"], floats.EnumerateObject().Select(p => p.Name));

        var bytes = Convert.FromBase64String(encoded.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var decoded = Enumerable.Range(0, bytes.Length / 4).Select(i => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();
        Assert.Equal(Floats(item.GetProperty("embedding")), decoded);
        Assert.Equal(SimulatedEmbeddingGenerator.Vector("hello", 8), decoded);

        Assert.Equal(Simulated, response.Headers.GetValues("x-kyros-model").Single());
        Assert.Equal("true", response.Headers.GetValues("x-kyros-simulated").Single());
        Assert.StartsWith("dec_", response.Headers.GetValues("x-kyros-decision-id").Single());
        Assert.StartsWith("gen.", response.Headers.GetValues("x-kyros-request-id").Single());
    }

    [Fact]
    public async Task A_remote_model_is_sent_its_remote_name_inputs_dimensions_and_user_and_the_call_is_recorded_with_its_input_tokens()
    {
        var before = fixture.Backend.EmbeddingRequests.Count;
        var (body, response) = await EmbedAsync(new { model = "remote-embed", input = new[] { "alpha", "beta" }, dimensions = 4, user = "user-7" });

        var received = Assert.Single(fixture.Backend.EmbeddingRequests.Skip(before));
        Assert.Equal("text-embedding-remote", received.GetProperty("model").GetString());
        Assert.Equal(["alpha", "beta"], received.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(4, received.GetProperty("dimensions").GetInt32());
        Assert.Equal("user-7", received.GetProperty("user").GetString());

        Assert.Equal("remote-embed", body.GetProperty("model").GetString());
        var data = body.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([0, 1], data.Select(d => d.GetProperty("index").GetInt32()));
        Assert.Equal([0.5f, 0.6f, 0.7f, 0.8f], Floats(data[0].GetProperty("embedding")));
        Assert.Equal([0.4f, 0.5f, 0.6f, 0.7f], Floats(data[1].GetProperty("embedding")));
        const int tokens = 2 * OpenAiTestServer.EmbeddingTokensPerInput;
        Assert.Equal(tokens, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal("false", response.Headers.GetValues("x-kyros-simulated").Single());

        // The call is in the model's statistics like any generation: one call, its input tokens, none out, its cost.
        var summary = await Eventually.UntilAsync(() => Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/remote-embed?window=1h"),
            s => s.GetProperty("count").GetInt64() == 1);
        Assert.Equal(1, summary.GetProperty("success_count").GetInt64());
        Assert.Equal(tokens, summary.GetProperty("input_tokens").GetInt64());
        Assert.Equal(0, summary.GetProperty("output_tokens").GetInt64());
        Assert.Equal(tokens * EmbeddingSilo.RemotePricePer1k / 1000, summary.GetProperty("cost").GetProperty("total").GetDouble(), 12);
        var records = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/remote-embed/records?limit=10");
        Assert.Equal(response.Headers.GetValues("x-kyros-request-id").Single(),
            Assert.Single(records.GetProperty("records").EnumerateArray()).GetProperty("request_id").GetString());
    }

    [Fact]
    public async Task A_failing_model_is_retried_then_routing_falls_back_and_each_failure_is_recorded()
    {
        // Its own silo: routing here must find broken-embed untried (no other test's failures cooling it down).
        const string broken = "--Kyros:Catalog:Models:1:";
        await using var silo = await EmbeddingSilo.StartAsync(fixture.Backend,
            $"{broken}Id=broken-embed", $"{broken}Kind=embedding", $"{broken}Provider=openai-compatible", $"{broken}Endpoint={fixture.Backend.BaseUrl}",
            $"{broken}LatencyPrior=0.01", $"{broken}QualityPrior=0.99");
        using var response = await silo.Http.PostAsJsonAsync("/v1/embeddings", new { model = "kyros/lowest_latency", input = "fall back" });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(Simulated, body.GetProperty("model").GetString());
        Assert.Equal(Simulated, response.Headers.GetValues("x-kyros-model").Single());
        // The first try and two retries (Kyros:Gateway:MaxRetries), then the next model.
        Assert.Equal(3, fixture.Backend.Calls["broken-embed"]);
        var summary = await Eventually.UntilAsync(() => silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/broken-embed?window=1h"),
            s => s.GetProperty("count").GetInt64() == 3);
        Assert.Equal(0, summary.GetProperty("success_count").GetInt64());
        Assert.Equal(3, summary.GetProperty("errors_by_kind").GetProperty("server_error").GetInt64());
    }

    [Theory]
    [InlineData("""{"model": "text-embedding-3-small", "input": "hi", "temperature": 1}""", "temperature")]
    [InlineData("""{"model": "text-embedding-3-small", "input": ""}""", "input")]
    [InlineData("""{"model": "text-embedding-3-small", "input": []}""", "input")]
    [InlineData("""{"model": "text-embedding-3-small", "input": ["a", ""]}""", "input[1]")]
    [InlineData("""{"model": "text-embedding-3-small", "input": [1, 2, 3]}""", "input")]
    [InlineData("""{"model": "text-embedding-3-small", "input": "hi", "dimensions": 0}""", "dimensions")]
    [InlineData("""{"model": "text-embedding-3-small", "input": "hi", "encoding_format": "int8"}""", "encoding_format")]
    [InlineData("""{"model": "echo", "input": "hi"}""", "model")]
    [InlineData("""{"model": "kyros/fastest", "input": "hi"}""", "model")]
    [InlineData("""{"input": "hi"}""", "model")]
    public async Task Bad_input_is_400_naming_the_field_with_openai_error_and_no_model_is_called(string body, string field)
    {
        var before = (fixture.Backend.TotalCalls, await Http.GetFromJsonAsync<JsonElement>($"/v1/performance/models/{Simulated}?window=1h"));
        using var response = await Http.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(field, problem.GetProperty("error").GetProperty("param").GetString());

        Assert.Equal(before.TotalCalls, fixture.Backend.TotalCalls);
        var after = await Http.GetFromJsonAsync<JsonElement>($"/v1/performance/models/{Simulated}?window=1h");
        Assert.Equal(before.Item2.GetProperty("count").GetInt64(), after.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task An_unknown_model_is_404_and_the_official_client_shows_why_a_chat_model_is_refused()
    {
        var (unknown, _) = await EmbedAsync(new { model = "no-such-embedder", input = "hi" }, HttpStatusCode.NotFound);
        Assert.Equal("model", unknown.GetProperty("field").GetString());

        var error = await Assert.ThrowsAsync<ClientResultException>(() => OfficialClient("echo").GenerateEmbeddingAsync("hi"));
        Assert.Equal(400, error.Status);
        Assert.Contains("not an embedding model", error.Message);
    }

    [Fact]
    public async Task The_sdk_embeds_through_the_gateway_grain_and_refuses_bad_input_naming_the_field()
    {
        using var host = await ClientHost.StartAsync(o => o.Gateways = [$"127.0.0.1:{fixture.Silo.GatewayPort}"]);
        var client = host.Services.GetRequiredService<KyrosPerfClient>();

        var result = await client.EmbedAsync(new EmbedRequest { Inputs = ["from the sdk"], Model = Simulated, Dimensions = 64 });
        Assert.Equal(Simulated, result.Model);
        Assert.True(result.Simulated);
        Assert.Equal(SimulatedEmbeddingGenerator.Vector("from the sdk", 64), Assert.Single(result.Vectors));
        Assert.Equal(0, result.Usage.OutputTokens);
        Assert.Equal(result.Usage.InputTokens * 0.00002 / 1000, result.Cost, 12);

        Assert.Equal("input", (await Assert.ThrowsAsync<ArgumentException>(() => client.EmbedAsync(new EmbedRequest { Inputs = [] }))).ParamName);
        Assert.Equal("dimensions", (await Assert.ThrowsAsync<ArgumentException>(() =>
            client.EmbedAsync(new EmbedRequest { Inputs = ["x"], Dimensions = 0 }))).ParamName);
        // Checked by the gateway against the catalog, and back through the grain call with its field.
        Assert.Equal("model", (await Assert.ThrowsAsync<ArgumentException>(() =>
            client.EmbedAsync(new EmbedRequest { Inputs = ["x"], Model = "echo" }))).ParamName);
    }

    [Fact]
    public async Task Kyros_perf_embed_prints_the_vector_and_model_and_bad_input_exits_2()
    {
        var run = await CliProcess.RunAsync(fixture.Silo.GatewayPort, "embed", "--model", Simulated, "--dimensions", "16", "hello", "from", "the", "cli");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains(Simulated, run.Output);
        Assert.Contains("(simulated)", run.Output);
        var first = SimulatedEmbeddingGenerator.Vector("hello from the cli", 16)[0];
        Assert.Contains(first.ToString("0.######", System.Globalization.CultureInfo.InvariantCulture), run.Output);

        var routed = await CliProcess.RunAsync(fixture.Silo.GatewayPort, "embed", "--model", "auto", "routed");
        Assert.True(routed.ExitCode == 0, routed.Output);

        var chat = await CliProcess.RunAsync(fixture.Silo.GatewayPort, "embed", "--model", "echo", "hi");
        Assert.Equal(2, chat.ExitCode);
        Assert.Contains("not an embedding model", chat.Output);
    }
}

/// <summary>The default catalog's embedding model beside its chat models: routing keeps the kinds apart.</summary>
public sealed class EmbeddingRoutingTests
{
    [Fact]
    public void Chat_routing_never_picks_the_embedding_model_and_embedding_routing_picks_only_it_whatever_the_strategy()
    {
        var fixture = new Routing.RoutingFixture();
        const string embedder = "text-embedding-3-small";
        Assert.Equal(Perf.Catalog.ModelKinds.Embedding, fixture.Catalog.Find(embedder)!.Kind);
        foreach (var strategy in Enum.GetValues<Perf.Routing.RoutingStrategy>())
        {
            var chat = fixture.Decide(strategy);
            Assert.DoesNotContain(embedder, chat.FallbackOrder.Prepend(chat.SelectedModel));
            Assert.DoesNotContain(chat.Candidates, c => c.Model == embedder);
            Assert.Equal("serves embedding, not chat", chat.Rejected.Single(r => r.Model == embedder).Reason);

            // 20,000 input tokens in all: each input, not their sum, is held to the 8,191-token window.
            var embedding = fixture.Decide(strategy, new Perf.Routing.RequestFeatures { Kind = Perf.Catalog.ModelKinds.Embedding, OutputTokens = 0, EstimatedTokens = 20_000 });
            Assert.Equal(embedder, embedding.SelectedModel);
            Assert.Empty(embedding.FallbackOrder);
            Assert.All(embedding.Rejected, r => Assert.Equal("serves chat, not embedding", r.Reason));
        }
    }
}
