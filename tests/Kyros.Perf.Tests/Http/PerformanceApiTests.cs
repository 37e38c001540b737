using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Http;

public sealed class PerformanceApiTests(SharedHttpSilo silo) : IClassFixture<SharedHttpSilo>
{
    private HttpClient Http => silo.Value.Http;

    private static string Record(string model, string requestId, double seconds = 2.5, string? extra = null) =>
        $$"""{"model": "{{model}}", "instance": "{{model}}-instance-1", "timestamp": "{{DateTimeOffset.UtcNow:O}}", "execution_time": {{seconds}}, "time_to_first_token": 0.4, "input_tokens": 100, "output_tokens": 200, "success": true, "error_kind": null, "cost": 0.03, "quality_score": 0.9, "request_id": "{{requestId}}"{{extra}}}""";

    private Task<HttpResponseMessage> PostAsync(string body) =>
        Http.PostAsync("/v1/performance/records", new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task<long> CountAsync(string model) =>
        (await Http.GetFromJsonAsync<JsonElement>($"/v1/performance/models/{model}?window=1h")).GetProperty("count").GetInt64();

    [Fact]
    public async Task Records_go_in_one_or_many_and_the_summary_shows_every_figure()
    {
        var single = await PostAsync(Record("gpt-4", "req_12345"));
        Assert.Equal(HttpStatusCode.OK, single.StatusCode);
        Assert.Equal("""{"recorded":1,"duplicates":0}""", await single.Content.ReadAsStringAsync());

        var batch = await PostAsync($"[{Record("gpt-4", "req_12345")}, {Record("gpt-4", "req_2", 1.5, ", \"success\": false, \"error_kind\": \"timeout\"")}]");
        Assert.Equal("""{"recorded":1,"duplicates":1}""", await batch.Content.ReadAsStringAsync());

        var summary = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4?window=1h");
        Assert.Equal("gpt-4", summary.GetProperty("model").GetString());
        Assert.Equal("1h", summary.GetProperty("window").GetString());
        Assert.Equal(2, summary.GetProperty("count").GetInt64());
        Assert.Equal(1, summary.GetProperty("success_count").GetInt64());
        Assert.Equal(0.5, summary.GetProperty("error_rate").GetDouble());
        Assert.Equal(1, summary.GetProperty("errors_by_kind").GetProperty("timeout").GetInt64());
        foreach (var field in new[] { "mean", "p50", "p90", "p95", "p99", "max" })
            Assert.Equal(JsonValueKind.Number, summary.GetProperty("latency").GetProperty(field).ValueKind);
        Assert.Equal(2.5, summary.GetProperty("latency").GetProperty("max").GetDouble());
        Assert.InRange(summary.GetProperty("ttft").GetProperty("p95").GetDouble(), 0.396, 0.404);
        Assert.Equal(400, summary.GetProperty("output_tokens").GetInt64());
        Assert.Equal(200, summary.GetProperty("input_tokens").GetInt64());
        Assert.True(summary.GetProperty("throughput").GetProperty("requests_per_second").GetDouble() > 0);
        Assert.True(summary.GetProperty("throughput").GetProperty("output_tokens_per_second").GetDouble() > 0);
        Assert.Equal(0.06, summary.GetProperty("cost").GetProperty("total").GetDouble(), 9);
        Assert.Equal(0.03, summary.GetProperty("cost").GetProperty("per_request").GetDouble(), 9);
        Assert.Equal(0.9, summary.GetProperty("quality").GetProperty("mean").GetDouble(), 9);
        Assert.Equal(2, summary.GetProperty("quality").GetProperty("count").GetInt64());

        var instances = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4/instances?window=1h");
        var instance = Assert.Single(instances.GetProperty("instances").EnumerateArray());
        Assert.Equal("gpt-4-instance-1", instance.GetProperty("instance").GetString());
        Assert.Equal(2, instance.GetProperty("count").GetInt64());
        var one = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4?window=1h&instance=gpt-4-instance-1");
        Assert.Equal(2, one.GetProperty("count").GetInt64());

        var recent = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4/records?limit=1");
        Assert.Equal("req_2", Assert.Single(recent.GetProperty("records").EnumerateArray()).GetProperty("request_id").GetString());

        var cluster = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/summary?window=15m");
        Assert.Equal(Kyros.Perf.Catalog.DefaultCatalog.Create().Count(), cluster.GetProperty("models").GetArrayLength());
        Assert.True(cluster.GetProperty("cluster").GetProperty("count").GetInt64() >= 2);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "{not json", "body" },
        { "42", "body" },
        { "[]", "records" },
        { Record("local-llama", "b1", -1), "execution_time" },
        { Record("local-llama", "b2").Replace("\"execution_time\": 2.5", "\"execution_time\": \"NaN\""), "execution_time" },
        { Record("local-llama", "b3").Replace("\"execution_time\": 2.5, ", ""), "execution_time" },
        { Record("local-llama", "b3b").Replace("\"execution_time\": 2.5", "\"execution_time\": 1e400"), "execution_time" },
        { $"[{Record("local-llama", "b3c")}, {Record("no-such-model", "b3d")}]", "[1].model" },
        { Record("local-llama", "b4").Replace("\"time_to_first_token\": 0.4", "\"time_to_first_token\": 3"), "time_to_first_token" },
        { Record("local-llama", "b5").Replace("\"input_tokens\": 100", "\"input_tokens\": -3"), "input_tokens" },
        { Record("local-llama", "b6").Replace("\"cost\": 0.03", "\"cost\": -0.03"), "cost" },
        { Record("local-llama", "b7").Replace("\"quality_score\": 0.9", "\"quality_score\": 1.2"), "quality_score" },
        { Record("local-llama", ""), "request_id" },
        { Record("", "b8"), "model" },
        { Record("no-such-model", "b9"), "model" },
        { Record("local-llama", "b10").Replace(DateTimeOffset.UtcNow.ToString("yyyy"), "2999"), "timestamp" },
        { Record("local-llama", "b11", extra: ", \"latency\": 1"), "latency" },
        { $"[{Record("local-llama", "b12")}, {Record("local-llama", "b13")}, {Record("local-llama", "b14").Replace("\"cost\": 0.03", "\"cost\": -1")}]", "[2].cost" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Bad_records_get_400_naming_the_field_and_nothing_is_recorded(string body, string field)
    {
        var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(0, await CountAsync("local-llama"));
    }

    [Fact]
    public async Task A_batch_over_ten_thousand_records_is_refused_whole()
    {
        var body = "[" + string.Join(",", Enumerable.Range(0, 10_001).Select(i => Record("local-llama", $"many-{i}"))) + "]";
        var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("records", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(0, await CountAsync("local-llama"));
    }

    [Fact]
    public async Task A_body_over_16_MiB_gets_413()
    {
        // Expect: 100-continue lets the server refuse before the client sends 17 MiB.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/performance/records")
        {
            Content = new StringContent("[" + new string(' ', 17 * 1024 * 1024) + "]", Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;
        var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("body", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("/v1/performance/models/no-such-model", HttpStatusCode.NotFound, "model")]
    [InlineData("/v1/performance/models/no-such-model/history", HttpStatusCode.NotFound, "model")]
    [InlineData("/v1/performance/models/gemini-pro?window=25h", HttpStatusCode.BadRequest, "window")]
    [InlineData("/v1/performance/models/gemini-pro?window=soon", HttpStatusCode.BadRequest, "window")]
    [InlineData("/v1/performance/models/gemini-pro?instance=nowhere", HttpStatusCode.BadRequest, "instance")]
    [InlineData("/v1/performance/summary?window=0m", HttpStatusCode.BadRequest, "window")]
    [InlineData("/v1/performance/models/gemini-pro/records?limit=0", HttpStatusCode.BadRequest, "limit")]
    [InlineData("/v1/performance/models/gemini-pro/history?resolution=1s", HttpStatusCode.BadRequest, "resolution")]
    [InlineData("/v1/performance/models/gemini-pro/history?from=yesterday", HttpStatusCode.BadRequest, "from")]
    [InlineData("/v1/performance/models/gemini-pro/history?from=2026-11-28T12:00:00Z&to=2026-11-28T11:00:00Z", HttpStatusCode.BadRequest, "from")]
    public async Task Bad_queries_name_the_field(string path, HttpStatusCode status, string field)
    {
        var response = await Http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_catalog_model_without_records_answers_count_zero()
    {
        var summary = await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gemini-pro?window=5m");
        Assert.Equal(0, summary.GetProperty("count").GetInt64());
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("latency").GetProperty("p95").ValueKind);
    }

    [Fact]
    public async Task Metrics_are_in_the_prometheus_text_format()
    {
        (await PostAsync($"[{Record("gpt-3.5-turbo", "m-1", 0.5)}, {Record("gpt-3.5-turbo", "m-2", 1.5, ", \"success\": false, \"error_kind\": \"rate_limit\"")}]")).EnsureSuccessStatusCode();

        var response = await Http.GetAsync("/metrics?window=15m");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n');
        Assert.Contains("# TYPE kyros_model_requests gauge", lines);
        Assert.Contains("kyros_model_requests{model=\"gpt-3.5-turbo\",window=\"15m\"} 2", lines);
        Assert.Contains("kyros_model_errors{model=\"gpt-3.5-turbo\",window=\"15m\",kind=\"rate_limit\"} 1", lines);
        Assert.Contains("kyros_model_latency_seconds_max{model=\"gpt-3.5-turbo\",window=\"15m\"} 1.5", lines);
        Assert.Contains(lines, l => l.StartsWith("kyros_model_latency_seconds{model=\"gpt-3.5-turbo\",window=\"15m\",quantile=\"0.99\"} "));
        // A model without records has a request count of 0 and no latency figures at all.
        Assert.Contains("kyros_model_requests{model=\"gemini-pro\",window=\"15m\"} 0", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("kyros_model_latency_seconds{model=\"gemini-pro\""));
        Assert.Equal(HttpStatusCode.BadRequest, (await Http.GetAsync("/metrics?window=2d")).StatusCode);
    }

    [Fact]
    public async Task Health_and_dashboard_answer()
    {
        var health = await Http.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("up", health.GetProperty("orleans").GetString());
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/dashboard")).StatusCode);
    }

    [Fact]
    public async Task Route_answers_a_decision_in_the_seed_shape()
    {
        var response = await Http.PostAsync("/v1/models/route", new StringContent("""
            {"request_features": {"estimated_tokens": 150, "creativity_requirement": 0.8, "reasoning_requirement": 0.7, "requires_code": true, "requires_vision": false},
             "available_models": ["gpt-4", "claude", "gemini-pro"], "strategy": "adaptive"}
            """, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var decision = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(decision.GetProperty("selected_model").GetString(), new[] { "gpt-4", "claude", "gemini-pro" });
        Assert.InRange(decision.GetProperty("confidence_score").GetDouble(), 0, 1);
        Assert.Equal("adaptive", decision.GetProperty("strategy").GetString());
        Assert.StartsWith("dec_", decision.GetProperty("decision_id").GetString());
        Assert.Equal(3, decision.GetProperty("candidates").GetArrayLength());
        Assert.Equal(2, decision.GetProperty("fallback_order").GetArrayLength());
        Assert.False(string.IsNullOrWhiteSpace(decision.GetProperty("reasoning").GetString()));

        var top = await Http.GetFromJsonAsync<JsonElement>("/v1/models/recommendations?prompt=Write%20a%20haiku&strategy=cost_effective&top_n=2&requires_code=true");
        Assert.Equal(2, top.GetProperty("recommendations").GetArrayLength());
    }

    public static TheoryData<string, string> BadRoutes => new()
    {
        { """{"strategy": "fastest"}""", "strategy" },
        { """{"request_features": {"creativity_requirement": 1.5}}""", "request_features.creativity_requirement" },
        { """{"request_features": {"estimated_tokens": -5}}""", "request_features.estimated_tokens" },
        { """{"request_features": {"requires_code": "yes"}}""", "request_features.requires_code" },
        { """{"request_features": {"colour": "blue"}}""", "request_features.colour" },
        { """{"available_models": []}""", "available_models" },
        { """{"available_models": ["gpt-4", "gpt-5"]}""", "available_models[1]" },
        { """[1, 2]""", "body" },
    };

    [Theory]
    [MemberData(nameof(BadRoutes))]
    public async Task Bad_route_requests_get_400_naming_the_field(string body, string field)
    {
        var response = await Http.PostAsync("/v1/models/route", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("top_n=0", "top_n")]
    [InlineData("top_n=9", "top_n")]
    [InlineData("strategy=fastest", "strategy")]
    [InlineData("reasoning_requirement=2", "reasoning_requirement")]
    [InlineData("available_models=gpt-4,nope", "available_models[1]")]
    [InlineData("requires_code=maybe", "requires_code")]
    public async Task Bad_recommendation_queries_get_400_naming_the_field(string query, string field)
    {
        var response = await Http.GetAsync($"/v1/models/recommendations?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task When_no_candidate_passes_the_answer_is_422_with_each_reason()
    {
        var response = await Http.PostAsync("/v1/models/route", new StringContent(
            """{"request_features": {"requires_vision": true}, "available_models": ["gpt-3.5-turbo", "local-llama"]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var rejected = problem.GetProperty("rejected").EnumerateArray().ToArray();
        Assert.Equal(["gpt-3.5-turbo", "local-llama"], rejected.Select(r => r.GetProperty("model").GetString()));
        Assert.All(rejected, r => Assert.Contains("vision", r.GetProperty("reason").GetString()));
    }
}
