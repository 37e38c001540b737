using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Alerts;

/// <summary>The model alert rules and the catalog's SLO fields over HTTP, on a real silo.</summary>
public sealed class ModelAlertRulesApiTests(SharedHttpSilo silo) : IClassFixture<SharedHttpSilo>
{
    private HttpClient Http => silo.Value.Http;

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task Expect(HttpResponseMessage response, HttpStatusCode status, string field)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Fact]
    public async Task Rules_are_on_by_default_change_one_at_a_time_and_bad_levels_are_refused_naming_the_field()
    {
        var rules = await Http.GetFromJsonAsync<JsonElement>("/v1/alerts/model-rules");
        var errorRate = rules.GetProperty("rules").GetProperty("error_rate");
        Assert.Equal((10.0, 25.0, 20), (errorRate.GetProperty("warning").GetDouble(), errorRate.GetProperty("critical").GetDouble(), errorRate.GetProperty("min_calls").GetInt32()));
        Assert.Equal(14.4, rules.GetProperty("rules").GetProperty("error_budget_burn").GetProperty("critical").GetDouble());
        var version = rules.GetProperty("version").GetInt64();

        await Expect(await Http.PutAsync("/v1/alerts/model-rules/error_rate", Json("""{"warning": 30, "critical": 20}""")), HttpStatusCode.BadRequest, "critical");
        await Expect(await Http.PutAsync("/v1/alerts/model-rules/error_rate", Json("""{"warning": 0, "critical": 20}""")), HttpStatusCode.BadRequest, "warning");
        await Expect(await Http.PutAsync("/v1/alerts/model-rules/error_rate", Json("""{"warning": 5, "critical": 20, "min_calls": 0}""")), HttpStatusCode.BadRequest, "min_calls");
        await Expect(await Http.PutAsync("/v1/alerts/model-rules/error_rate", Json("""{"warning": 5, "critical": 20, "window": "5m"}""")), HttpStatusCode.BadRequest, "window");
        await Expect(await Http.PutAsync("/v1/alerts/model-rules/error_rate", Json("""{"critical": 20}""")), HttpStatusCode.BadRequest, "warning");
        await Expect(await Http.PutAsync("/v1/alerts/model-rules/p99", Json("""{"warning": 5, "critical": 20}""")), HttpStatusCode.NotFound, "rule");
        Assert.Equal(version, (await Http.GetFromJsonAsync<JsonElement>("/v1/alerts/model-rules")).GetProperty("version").GetInt64());

        var put = await Http.PutAsync("/v1/alerts/model-rules/latency_baseline", Json("""{"warning": 1.5, "critical": 2.5, "min_calls": 50}"""));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var one = await Http.GetFromJsonAsync<JsonElement>("/v1/alerts/model-rules/latency_baseline");
        Assert.Equal(version + 1, one.GetProperty("version").GetInt64());
        Assert.Equal((1.5, 2.5, 50), (one.GetProperty("levels").GetProperty("warning").GetDouble(), one.GetProperty("levels").GetProperty("critical").GetDouble(),
            one.GetProperty("levels").GetProperty("min_calls").GetInt32()));
    }

    [Fact]
    public async Task The_catalog_takes_slo_fields_and_refuses_bad_ones_naming_the_field()
    {
        var id = $"slo-{Guid.NewGuid():N}"[..12];
        await Expect(await Http.PostAsync("/v1/models", Json($$"""{"id": "{{id}}", "availability_slo": 1}""")), HttpStatusCode.BadRequest, "availability_slo");
        await Expect(await Http.PostAsync("/v1/models", Json($$"""{"id": "{{id}}", "latency_slo_seconds": -1}""")), HttpStatusCode.BadRequest, "latency_slo_seconds");
        await Expect(await Http.PostAsync("/v1/models", Json($$"""{"id": "{{id}}", "ttft_slo_seconds": 0}""")), HttpStatusCode.BadRequest, "ttft_slo_seconds");

        var created = await Http.PostAsync("/v1/models", Json($$"""{"id": "{{id}}", "latency_slo_seconds": 2.5, "ttft_slo_seconds": 0.5, "availability_slo": 0.999}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = await Http.GetFromJsonAsync<JsonElement>($"/v1/models/{id}");
        Assert.Equal((2.5, 0.5, 0.999), (model.GetProperty("latency_slo_seconds").GetDouble(), model.GetProperty("ttft_slo_seconds").GetDouble(),
            model.GetProperty("availability_slo").GetDouble()));
    }
}
