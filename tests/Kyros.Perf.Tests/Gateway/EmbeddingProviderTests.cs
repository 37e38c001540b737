using System.Collections.Concurrent;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// Each provider's embedding generator against a local server that answers as Azure OpenAI and Ollama do, and the
/// simulated generator's pace, errors and lengths.
/// </summary>
public sealed class EmbeddingProviderTests
{
    /// <param name="configured">The models as configured: a configured key reaches only the endpoint its model was configured with.</param>
    private static EmbeddingGenerators Generators(TimeProvider? time = null, double timeScale = 1, ModelDescriptor[]? configured = null)
    {
        var options = Options.Create(new GatewayOptions { SimulationSeed = 7, SimulationTimeScale = timeScale, ApiKeys = { ["azure-embed"] = "azure-secret" } });
        var catalog = new ModelCatalog(Options.Create(new ModelCatalogOptions { Models = [.. configured ?? []] }));
        return new(options, new ProviderConnections(options, catalog), time ?? TimeProvider.System);
    }

    [Fact]
    public async Task Azure_openai_is_called_at_its_deployment_with_the_api_version_and_key_and_its_vectors_come_back()
    {
        await using var server = await ProviderServer.StartAsync();
        var model = new ModelDescriptor
        {
            Id = "azure-embed", Provider = "azure-openai", Kind = ModelKinds.Embedding, Endpoint = server.Url, RemoteModel = "embed-deployment", ApiVersion = "2024-10-21",
        };
        using var generators = Generators(configured: [model]);
        var result = await generators.For(model).GenerateAsync(["one", "three"], new EmbeddingGenerationOptions { Dimensions = 2 });

        var call = Assert.Single(server.Calls);
        Assert.Equal("/openai/deployments/embed-deployment/embeddings", call.Path);
        Assert.Contains("api-version=2024-10-21", call.Query);
        Assert.Equal("azure-secret", call.ApiKey);
        Assert.Equal(["one", "three"], call.Body.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, call.Body.GetProperty("dimensions").GetInt32());
        Assert.Equal(new[] { new[] { 0.3f, 0.4f }, new[] { 0.5f, 0.6f } }, result.Select(e => e.Vector.ToArray()));
        Assert.Equal(4, result.Usage?.InputTokenCount);
    }

    [Fact]
    public void An_api_version_the_azure_client_does_not_speak_is_a_provider_error_naming_the_versions_it_does()
    {
        using var generators = Generators();
        var model = new ModelDescriptor { Id = "azure-old", Provider = "azure-openai", Kind = ModelKinds.Embedding, Endpoint = "http://127.0.0.1:1", ApiVersion = "2023-01-01" };
        var error = Assert.Throws<ProviderException>(() => generators.For(model));
        Assert.Equal("provider_error", error.ErrorKind);
        Assert.False(error.Retryable);
        Assert.False(error.CallersFault);
        Assert.Contains("2024-10-21", error.Message);
    }

    [Fact]
    public async Task Ollama_is_called_at_api_embed_with_its_model_name_and_its_vectors_and_token_count_come_back()
    {
        await using var server = await ProviderServer.StartAsync();
        using var generators = Generators();
        var model = new ModelDescriptor { Id = "ollama-embed", Provider = "ollama", Kind = ModelKinds.Embedding, Endpoint = server.Url, RemoteModel = "nomic-embed-text" };
        var result = await generators.For(model).GenerateAsync(["one", "three"]);

        var call = Assert.Single(server.Calls);
        Assert.Equal("/api/embed", call.Path);
        Assert.Equal("nomic-embed-text", call.Body.GetProperty("model").GetString());
        Assert.Equal(["one", "three"], call.Body.GetProperty("input").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(new[] { new[] { 0.3f, 0.4f }, new[] { 0.5f, 0.6f } }, result.Select(e => e.Vector.ToArray()));
        Assert.Equal(4, result.Usage?.InputTokenCount);
    }

    [Fact]
    public async Task The_simulated_generator_waits_its_time_to_first_token_on_the_clock_it_is_given_and_takes_its_length_from_the_request_or_the_catalog()
    {
        var time = new FakeTimeProvider();
        using var generators = Generators(time, timeScale: 1);
        var model = new ModelDescriptor
        {
            Id = "sim-embed", Kind = ModelKinds.Embedding, EmbeddingDimensions = 12, Simulation = new SimulationProfile { TtftMedianSeconds = 2, Spread = 0, ErrorRate = 0 },
        };
        var pending = generators.For(model).GenerateAsync(["a text"]);
        time.Advance(TimeSpan.FromSeconds(1.9));
        Assert.False(pending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(0.2));
        var result = await pending;
        Assert.Equal(SimulatedEmbeddingGenerator.Vector("a text", 12), Assert.Single(result).Vector.ToArray());
        Assert.Equal(2, result.Usage?.InputTokenCount);

        var asked = generators.For(model).GenerateAsync(["a text"], new EmbeddingGenerationOptions { Dimensions = 5 });
        time.Advance(TimeSpan.FromSeconds(2.1));
        Assert.Equal(5, Assert.Single(await asked).Vector.Length);
        // The prefix of a longer vector, rescaled to unit length.
        var longer = SimulatedEmbeddingGenerator.Vector("a text", 12);
        var scale = Math.Sqrt(longer.Take(5).Sum(v => (double)v * v));
        Assert.Equal(longer.Take(5).Select(v => Math.Round(v / scale, 5)), SimulatedEmbeddingGenerator.Vector("a text", 5).Select(v => Math.Round((double)v, 5)));

        using var instant = Generators(timeScale: 0);
        var unsized = new ModelDescriptor { Id = "sim-unsized", Kind = ModelKinds.Embedding, Simulation = new SimulationProfile { ErrorRate = 0 } };
        Assert.Equal(SimulatedEmbeddingGenerator.DefaultDimensions, Assert.Single(await instant.For(unsized).GenerateAsync(["x"])).Vector.Length);
    }

    [Fact]
    public async Task The_simulated_generator_fails_at_its_error_rate_with_the_kinds_the_gateway_retries()
    {
        using var generators = Generators(timeScale: 0);
        var limited = new ModelDescriptor
        {
            Id = "sim-limited", Kind = ModelKinds.Embedding,
            Simulation = new SimulationProfile { ErrorRate = 1, TimeoutShare = 0, RateLimitShare = 1, RetryAfterSeconds = 3 },
        };
        var error = await Assert.ThrowsAsync<ProviderException>(() => generators.For(limited).GenerateAsync(["x"]));
        Assert.Equal((429, "rate_limit"), (error.Status, error.ErrorKind));
        Assert.True(error.Retryable);

        var failing = new ModelDescriptor { Id = "sim-failing", Kind = ModelKinds.Embedding, Simulation = new SimulationProfile { ErrorRate = 1, TimeoutShare = 0, RateLimitShare = 0 } };
        Assert.Equal("server_error", (await Assert.ThrowsAsync<ProviderException>(() => generators.For(failing).GenerateAsync(["x"]))).ErrorKind);
    }

    /// <summary>Answers Azure OpenAI's embeddings (at a deployment) and Ollama's <c>/api/embed</c>: text i's vector is (length + j) / 10, two values.</summary>
    private sealed class ProviderServer : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private ProviderServer(WebApplication app, string url) => (_app, Url) = (app, url);

        public string Url { get; }
        public ConcurrentQueue<(string Path, string Query, string? ApiKey, JsonElement Body)> Calls { get; } = new();

        public static async Task<ProviderServer> StartAsync()
        {
            var url = $"http://127.0.0.1:{FreePort.Next()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls(url);
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            var app = builder.Build();
            var server = new ProviderServer(app, url);
            app.MapPost("/openai/deployments/{deployment}/embeddings", async context =>
            {
                var texts = await server.ReadAsync(context);
                await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
                {
                    ["object"] = "list", ["model"] = "embed-deployment", ["usage"] = new { prompt_tokens = 4, total_tokens = 4 },
                    ["data"] = texts.Select((t, i) => new Dictionary<string, object> { ["object"] = "embedding", ["index"] = i, ["embedding"] = Vector(t) }).ToArray(),
                });
            });
            app.MapPost("/api/embed", async context =>
            {
                var texts = await server.ReadAsync(context);
                await context.Response.WriteAsJsonAsync(new { model = "nomic-embed-text", embeddings = texts.Select(Vector).ToArray(), prompt_eval_count = 4 });
            });
            await app.StartAsync();
            return server;
        }

        private static float[] Vector(string text) => [(text.Length + 0) / 10f, (text.Length + 1) / 10f];

        private async Task<string[]> ReadAsync(HttpContext context)
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            var root = body.RootElement.Clone();
            Calls.Enqueue((context.Request.Path, context.Request.QueryString.Value ?? "", context.Request.Headers["api-key"].FirstOrDefault(), root));
            return [.. root.GetProperty("input").EnumerateArray().Select(e => e.GetString()!)];
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
