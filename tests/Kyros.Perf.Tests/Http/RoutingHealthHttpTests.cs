using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Http;

/// <summary>Cools a model down, so it has a silo of its own: other tests route to the same models.</summary>
public sealed class RoutingHealthHttpTests(SharedHttpSilo silo) : IClassFixture<SharedHttpSilo>
{
    private HttpClient Http => silo.Value.Http;

    [Fact]
    public async Task A_model_that_keeps_failing_cools_down_and_routing_to_it_alone_answers_503_with_retry_after()
    {
        var failures = string.Join(",", Enumerable.Range(0, 5).Select(i => $$"""{"model": "claude", "execution_time": 1, "success": false, "error_kind": "server_error", "request_id": "fail-{{i}}"}"""));
        (await Http.PostAsync("/v1/performance/records", new StringContent($"[{failures}]", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

        // The statistics reach the router within a snapshot interval or two.
        var response = await Eventually.UntilAsync(
            () => Http.PostAsync("/v1/models/route", new StringContent("""{"available_models": ["claude"]}""", Encoding.UTF8, "application/json")),
            r => r.StatusCode != HttpStatusCode.OK, TimeSpan.FromSeconds(15));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
        var reason = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("rejected")[0].GetProperty("reason").GetString();
        Assert.Contains("5 consecutive failures", reason);

        var state = await Http.GetFromJsonAsync<JsonElement>("/v1/models/health");
        var claude = state.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == "claude");
        Assert.Equal("cooling_down", claude.GetProperty("health").GetString());
        Assert.Contains("5 consecutive failures", claude.GetProperty("reason").GetString());
        Assert.True(claude.GetProperty("cooling_until").GetDateTimeOffset() > DateTimeOffset.UtcNow);
        Assert.Equal(5, claude.GetProperty("samples").GetInt64());
        var gpt4 = state.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == "gpt-4");
        Assert.Equal(JsonValueKind.Null, gpt4.GetProperty("reason").ValueKind);
    }
}
