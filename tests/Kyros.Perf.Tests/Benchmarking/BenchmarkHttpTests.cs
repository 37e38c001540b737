using System.Net;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>An embedded silo whose simulated models answer a hundred times faster than their profiles.</summary>
public sealed class FastSimulationSilo : IAsyncLifetime
{
    public HttpSilo Value { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Value = await HttpSilo.StartAsync(null, "--Kyros:Gateway:SimulationTimeScale=0.01");

    public ValueTask DisposeAsync() => Value.DisposeAsync();
}

public sealed class BenchmarkHttpTests(FastSimulationSilo silo) : IClassFixture<FastSimulationSilo>
{
    private HttpClient Http => silo.Value.Http;

    private const string Valid = """
        {"model_types": ["gpt-3.5-turbo", "gemini-pro"], "test_prompts": ["Say hello.", {"prompt": "Name a colour.", "expected": "blue"}],
         "iterations_per_model": 6, "concurrency_levels": [1, 2], "max_tokens": 16, "slo": {"ttft_seconds": 0.5, "latency_seconds": 5}, "seed": 9}
        """;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<JsonElement> UntilFinishedAsync(string location) =>
        await Eventually.UntilAsync(async () => JsonDocument.Parse(await Http.GetStringAsync(location)).RootElement,
            run => run.GetProperty("status").GetString() is "completed" or "failed" or "cancelled");

    [Fact]
    public async Task A_run_is_202_with_its_location_then_completes_and_reports_as_csv_json_and_markdown_and_compares_with_a_repeat()
    {
        var response = await Http.PostAsync("/v1/benchmark/run", Json(Valid));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/benchmark/{id}", response.Headers.Location!.OriginalString);

        var run = await UntilFinishedAsync(response.Headers.Location.OriginalString);
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(4, run.GetProperty("results").GetArrayLength());
        var first = run.GetProperty("results")[0];
        Assert.Equal(6, first.GetProperty("requests").GetInt32());
        Assert.True(first.GetProperty("latency").GetProperty("p99").GetDouble() >= first.GetProperty("latency").GetProperty("p50").GetDouble());

        var csv = await Http.GetAsync($"/v1/benchmark/{id}/report?format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("model,mode,concurrency", lines[0]);
        Assert.Equal(5, lines.Length); // a header and one row per model and level
        var markdown = await Http.GetStringAsync($"/v1/benchmark/{id}/report?format=markdown");
        Assert.Contains($"# Benchmark {id}", markdown);
        Assert.Contains("<svg", markdown);
        var json = JsonDocument.Parse(await Http.GetStringAsync($"/v1/benchmark/{id}/report")).RootElement;
        Assert.Equal(id, json.GetProperty("run").GetProperty("id").GetString());

        // The same configuration again: the trends compare it with the first.
        var repeat = await Http.PostAsync("/v1/benchmark/run", Json(Valid));
        var again = await UntilFinishedAsync(repeat.Headers.Location!.OriginalString);
        var key = again.GetProperty("config_key").GetString();
        Assert.Equal(run.GetProperty("config_key").GetString(), key);
        var trends = JsonDocument.Parse(await Http.GetStringAsync($"/v1/benchmark/trends?config={key}&metric=latency_p50")).RootElement;
        Assert.Equal(again.GetProperty("id").GetString(), trends.GetProperty("run").GetString());
        Assert.Equal([id], trends.GetProperty("baseline_runs").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(4, trends.GetProperty("changes").GetArrayLength());
        Assert.All(trends.GetProperty("changes").EnumerateArray(), c => Assert.Equal("latency_p50", c.GetProperty("metric").GetString()));
        var listed = JsonDocument.Parse(await Http.GetStringAsync("/v1/benchmark?limit=5")).RootElement.GetProperty("runs");
        Assert.Contains(listed.EnumerateArray(), r => r.GetProperty("id").GetString() == id);
    }

    [Theory]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "iterations_per_model": 0}""", "iterations_per_model")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": []}""", "test_prompts")]
    [InlineData("""{"model_types": [], "test_prompts": ["x"]}""", "model_types")]
    [InlineData("""{"model_types": ["gpt-4", "no-such-model"], "test_prompts": ["x"]}""", "model_types[1]")]
    [InlineData("""{"model_types": ["gpt-4", "text-embedding-3-small"], "test_prompts": ["x"]}""", "model_types[1]")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "concurrency_levels": [1, 0]}""", "concurrency_levels[1]")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "concurrency_levels": [100000]}""", "concurrency_levels[0]")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "load": {"target_rps": 0, "duration_seconds": 10}}""", "load.target_rps")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "load": {"target_rps": 5, "duration_seconds": 100000}}""", "load.duration_seconds")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "metrics_to_collect": ["latency", "vibes"]}""", "metrics_to_collect[1]")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": ["x"], "iterations": 3}""", "iterations")]
    [InlineData("""{"model_types": ["gpt-4"], "test_prompts": [{"prompt": ""}]}""", "test_prompts[0].prompt")]
    [InlineData("""{"model_types": ["gpt-4"], "prompt_file": "/etc/passwd"}""", "prompt_file")]
    [InlineData("""{"model_types": "gpt-4", "test_prompts": ["x"]}""", "model_types")]
    [InlineData("""[1]""", "body")]
    public async Task Bad_configs_are_400_naming_the_field_and_start_nothing(string body, string field)
    {
        var before = JsonDocument.Parse(await Http.GetStringAsync("/v1/benchmark?limit=1000")).RootElement.GetProperty("runs").GetArrayLength();
        await ExpectProblemAsync(await Http.PostAsync("/v1/benchmark/run", Json(body)), HttpStatusCode.BadRequest, field);
        Assert.Equal(before, JsonDocument.Parse(await Http.GetStringAsync("/v1/benchmark?limit=1000")).RootElement.GetProperty("runs").GetArrayLength());
    }

    [Theory]
    [InlineData("/v1/benchmark/bench-nope", HttpStatusCode.NotFound, "id")]
    [InlineData("/v1/benchmark/bench-nope/report?format=csv", HttpStatusCode.NotFound, "id")]
    [InlineData("/v1/benchmark/bench-x/report?format=pdf", HttpStatusCode.BadRequest, "format")]
    [InlineData("/v1/benchmark/trends", HttpStatusCode.BadRequest, "config")]
    [InlineData("/v1/benchmark/trends?config=x&metric=vibes", HttpStatusCode.BadRequest, "metric")]
    [InlineData("/v1/benchmark?limit=0", HttpStatusCode.BadRequest, "limit")]
    public async Task Unknown_runs_formats_and_parameters_are_named(string url, HttpStatusCode status, string field) =>
        await ExpectProblemAsync(await Http.GetAsync(url), status, field);

    private static async Task ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(field, JsonDocument.Parse(text).RootElement.GetProperty("field").GetString());
    }
}
