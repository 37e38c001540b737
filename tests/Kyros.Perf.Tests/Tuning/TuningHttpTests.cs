using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Tuning;

public sealed class TuningHttpTests(SharedHttpSilo silo) : IClassFixture<SharedHttpSilo>
{
    private HttpClient Http => silo.Value.Http;

    [Fact]
    public async Task Flapping_samples_for_a_host_and_degrading_records_for_a_model_give_recommendations_that_name_them()
    {
        // A host whose cpu hovers around its warning (70): raised and resolved again and again on normal behaviour.
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);
        var samples = string.Join(",", Enumerable.Range(0, 28).Select(i =>
            $$"""{"timestamp": "{{start.AddSeconds(5 * i):O}}", "cpu_percent": {{(i % 4 < 2 ? 74 : 55)}}}"""));
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync("/v1/resources/nodes/flappy-1/samples",
            new StringContent($"[{samples}]", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        // A model whose median latency climbs minute after minute over the last half hour.
        var now = DateTimeOffset.UtcNow;
        var records = string.Join(",", Enumerable.Range(1, 30).SelectMany(ago => Enumerable.Range(0, 6).Select(i =>
            "{\"model\": \"local-llama\", \"timestamp\": \"" + now.AddMinutes(-ago).AddSeconds(i).ToString("O") + "\", \"execution_time\": " + Seconds(ago, i) + ", \"request_id\": \"creep-" + ago + "-" + i + "\"}")));
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync("/v1/performance/records",
            new StringContent($"[{records}]", System.Text.Encoding.UTF8, "application/json"))).StatusCode);

        static string Seconds(int ago, int i) => ((1 + (30 - ago) * 0.05) * (0.97 + 0.01 * i)).ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
        var run = await Http.PostAsync("/v1/tuning/run", null);
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);
        var recommendations = (await run.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("recommendations").EnumerateArray()
            .ToDictionary(r => r.GetProperty("target").GetString()!);
        var threshold = recommendations["threshold:cpu@flappy-1"];
        Assert.Equal("raise_threshold", threshold.GetProperty("action").GetString());
        Assert.Equal(70, threshold.GetProperty("current_value").GetDouble());
        Assert.True(threshold.GetProperty("recommended_value").GetDouble() > 74);
        Assert.Contains("flappy-1", threshold.GetProperty("reasoning").GetString());
        var model = recommendations["model:local-llama"];
        Assert.Contains("median latency climbed", model.GetProperty("reasoning").GetString());
        Assert.Contains(model.GetProperty("evidence").EnumerateArray(), e => e.GetProperty("name").GetString() == "latency_trend_t");

        var listed = await Http.GetFromJsonAsync<JsonElement>("/v1/tuning/recommendations?target=model:local-llama");
        Assert.NotEmpty(listed.GetProperty("recommendations").EnumerateArray());

        // Once the threshold is moved (by the gates, or here by hand), the same behaviour flaps no more.
        if (threshold.GetProperty("status").GetString() == "proposed")
            Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync($"/v1/tuning/recommendations/{threshold.GetProperty("id").GetString()}/apply", null)).StatusCode);
        var moved = await Http.GetFromJsonAsync<JsonElement>("/v1/resources/thresholds?node=flappy-1");
        Assert.Contains(moved.GetProperty("thresholds").EnumerateArray(), t => t.GetProperty("metric").GetString() == "cpu"
            && t.GetProperty("scope").GetString() == "node" && t.GetProperty("levels").GetProperty("warning").GetDouble() > 74);
        var again = DateTimeOffset.UtcNow.AddSeconds(-150);
        var sameBehaviour = string.Join(",", Enumerable.Range(0, 28).Select(i =>
            $$"""{"timestamp": "{{again.AddSeconds(5 * i):O}}", "cpu_percent": {{(i % 4 < 2 ? 74 : 55)}}}"""));
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync("/v1/resources/nodes/flappy-1/samples",
            new StringContent($"[{sameBehaviour}]", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
        var alerts = await Http.GetFromJsonAsync<JsonElement>($"/v1/resources/alerts?node=flappy-1&since={Uri.EscapeDataString(again.ToString("O"))}&limit=1000");
        Assert.DoesNotContain(alerts.GetProperty("events").EnumerateArray(), e => e.GetProperty("metric").GetString() == "cpu"
            && e.GetProperty("kind").GetString() == "raised");
    }

    [Theory]
    [InlineData("""{"learning_rate": "fast"}""", "learning_rate")]
    [InlineData("""{"enabled": 1}""", "enabled")]
    [InlineData("""{"auto_apply": "yes"}""", "auto_apply")]
    [InlineData("""{"max_concurrent_tunings": 1.5}""", "max_concurrent_tunings")]
    [InlineData("""{"max_concurrent_tunings": 10000000000}""", "max_concurrent_tunings")]
    [InlineData("""{"max_concurrent_tunings": 0}""", "max_concurrent_tunings")]
    [InlineData("""{"learning_rat": 0.2}""", "learning_rat")]
    [InlineData("""{"learning_rate": 0.2, "speed": 3}""", "speed")]
    [InlineData("""{"learning_rate": 1.5}""", "learning_rate")]
    [InlineData("""{"learning_rate": 0}""", "learning_rate")]
    [InlineData("""{"learning_rate": 0.2, "safety_margin": 2}""", "safety_margin")]
    [InlineData("""{"tuning_interval_minutes": 0.5}""", "tuning_interval_minutes")]
    [InlineData("""{"evaluation_minutes": -1}""", "evaluation_minutes")]
    [InlineData("""{"confidence_threshold": -0.1}""", "confidence_threshold")]
    [InlineData("""{"impact_threshold": 1.01}""", "impact_threshold")]
    [InlineData("""{}""", "body")]
    [InlineData("""{"learning_rate": null}""", "body")]
    [InlineData("""[{"learning_rate": 0.2}]""", "body")]
    [InlineData("""0.2""", "body")]
    [InlineData("""{"learning_rate": 0.2""", "body")]
    [InlineData("", "body")]
    public async Task Bad_configuration_bodies_are_400_naming_the_field_and_change_nothing(string body, string field)
    {
        var before = await ConfigurationAsync();
        var response = await Http.PutAsync("/v1/tuning/config", Json(body));
        await ExpectProblemAsync(response, HttpStatusCode.BadRequest, field);
        Assert.Equal(before.GetRawText(), (await ConfigurationAsync()).GetRawText());
    }

    [Fact]
    public async Task A_configuration_change_moves_only_the_fields_given()
    {
        var before = await ConfigurationAsync();
        try
        {
            var response = await Http.PutAsync("/v1/tuning/config", Json("""{"learning_rate": 0.2}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var answered = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(0.2, answered.GetProperty("learning_rate").GetDouble());
            AssertSameExcept(before, answered, "learning_rate");

            var after = await ConfigurationAsync();
            Assert.Equal(0.2, after.GetProperty("learning_rate").GetDouble());
            AssertSameExcept(before, after, "learning_rate");
        }
        finally
        {
            var restore = await Http.PutAsync("/v1/tuning/config", Json("""{"learning_rate": 0.1}"""));
            Assert.Equal(HttpStatusCode.OK, restore.StatusCode);
        }
        Assert.Equal(0.1, (await ConfigurationAsync()).GetProperty("learning_rate").GetDouble());
    }

    [Theory]
    [InlineData("apply")]
    [InlineData("reject")]
    [InlineData("rollback")]
    public async Task An_unknown_recommendation_is_404_naming_the_id(string action)
    {
        await ExpectProblemAsync(await Http.PostAsync($"/v1/tuning/recommendations/no-such-recommendation/{action}", null), HttpStatusCode.NotFound, "id");
        await ExpectProblemAsync(await Http.PostAsync($"/v1/tuning/recommendations/{new string('x', 65)}/{action}", null), HttpStatusCode.BadRequest, "id");
    }

    [Theory]
    [InlineData("/v1/tuning/recommendations?status=pending", "status")]
    [InlineData("/v1/tuning/recommendations?status=", "status")]
    [InlineData("/v1/tuning/recommendations?since=yesterday", "since")]
    [InlineData("/v1/tuning/recommendations?limit=0", "limit")]
    [InlineData("/v1/tuning/recommendations?limit=1001", "limit")]
    [InlineData("/v1/tuning/recommendations?limit=ten", "limit")]
    [InlineData("/v1/tuning/recommendations?limit=99999999999", "limit")]
    [InlineData("/v1/tuning/history?from=yesterday", "from")]
    [InlineData("/v1/tuning/history?to=soon", "to")]
    [InlineData("/v1/tuning/history?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "from")]
    public async Task Bad_query_parameters_are_400_naming_them(string url, string field) =>
        await ExpectProblemAsync(await Http.GetAsync(url), HttpStatusCode.BadRequest, field);

    [Fact]
    public async Task Good_queries_answer_lists()
    {
        var listed = await Http.GetFromJsonAsync<JsonElement>(
            $"/v1/tuning/recommendations?status=rolled_back&target=timeout:gpt-4&since={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddDays(-1).ToString("O"))}&limit=5");
        Assert.Equal(JsonValueKind.Array, listed.GetProperty("recommendations").ValueKind);
        Assert.Equal(JsonValueKind.Array, (await Http.GetFromJsonAsync<JsonElement>("/v1/tuning/history")).GetProperty("history").ValueKind);
        var history = await Http.GetFromJsonAsync<JsonElement>("/v1/tuning/history?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z");
        Assert.Empty(history.GetProperty("history").EnumerateArray());
    }

    [Fact]
    public async Task A_run_takes_no_body_or_an_empty_object_and_refuses_fields()
    {
        await ExpectProblemAsync(await Http.PostAsync("/v1/tuning/run", Json("""{"force": true}""")), HttpStatusCode.BadRequest, "force");
        await ExpectProblemAsync(await Http.PostAsync("/v1/tuning/run", Json("""[]""")), HttpStatusCode.BadRequest, "body");

        foreach (var content in new HttpContent?[] { null, Json("{}") })
        {
            var response = await Http.PostAsync("/v1/tuning/run", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var cycle = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(JsonValueKind.Array, cycle.GetProperty("recommendations").ValueKind);
            Assert.Equal(JsonValueKind.Array, cycle.GetProperty("evaluated").ValueKind);
            foreach (var name in new[] { "started_at", "duration_ms", "models_read", "hosts_read", "grain_calls", "skipped" })
                Assert.True(cycle.TryGetProperty(name, out _), $"The cycle result lacks {name}.");
        }
    }

    private async Task<JsonElement> ConfigurationAsync()
    {
        var status = await Http.GetFromJsonAsync<JsonElement>("/v1/tuning/status");
        return status.GetProperty("configuration");
    }

    private static void AssertSameExcept(JsonElement expected, JsonElement actual, string changed)
    {
        var names = expected.EnumerateObject().Select(p => p.Name).ToArray();
        Assert.Equal(names, actual.EnumerateObject().Select(p => p.Name).ToArray());
        foreach (var name in names.Where(n => n != changed))
            Assert.True(expected.GetProperty(name).GetRawText() == actual.GetProperty(name).GetRawText(),
                $"{name} changed from {expected.GetProperty(name).GetRawText()} to {actual.GetProperty(name).GetRawText()}.");
    }

    private static async Task ExpectProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
