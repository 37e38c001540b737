using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Http;

public sealed class ResourceApiTests(SharedHttpSilo silo) : IClassFixture<SharedHttpSilo>
{
    private HttpClient Http => silo.Value.Http;

    [Fact]
    public async Task The_silo_reports_its_own_host_cpu_memory_disk_network_and_connections()
    {
        var summary = await Eventually.UntilAsync(async () =>
        {
            // 404 until the first sample registers the host.
            var response = await Http.GetAsync("/v1/resources/nodes/test-silo?window=1m");
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : default;
        }, s => s.ValueKind == JsonValueKind.Object && s.GetProperty("sample_count").GetInt32() >= 2, TimeSpan.FromSeconds(30));
        var metrics = summary.GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("series").GetString()!);
        Assert.InRange(metrics["cpu"].GetProperty("latest").GetDouble(), 0, 100);
        Assert.InRange(metrics["memory"].GetProperty("latest").GetDouble(), 0.001, 100);
        Assert.Contains(metrics.Keys, k => k.StartsWith("disk:/", StringComparison.Ordinal));
        Assert.Contains("connections", metrics.Keys);
        Assert.Contains("queue", metrics.Keys);
        if (File.ReadAllLines("/proc/net/dev").Skip(2).Any(l => !l.TrimStart().StartsWith("lo:", StringComparison.Ordinal)))
            Assert.Contains(metrics.Keys, k => k.StartsWith("network_in:", StringComparison.Ordinal));
        Assert.True(summary.GetProperty("self_sampled").GetBoolean());
    }

    [Fact]
    public async Task Pushed_samples_show_in_the_summary_alerts_and_scaling()
    {
        var now = DateTimeOffset.UtcNow;
        var body = $$"""
            [{"node": "web-9", "timestamp": "{{now.AddSeconds(-10):O}}", "cpu_percent": 96, "group": "web", "gpus": [{"index": 0, "name": "NVIDIA L4", "utilization_percent": 40, "memory_used_bytes": 1, "memory_total_bytes": 2}]},
             {"node": "web-9", "timestamp": "{{now.AddSeconds(-5):O}}", "cpu_percent": 97, "group": "web"}]
            """;
        var push = await Http.PostAsync("/v1/resources/nodes/web-9/samples", Json(body));
        Assert.Equal(HttpStatusCode.OK, push.StatusCode);

        var alerts = await Http.GetFromJsonAsync<JsonElement>("/v1/resources/alerts?node=web-9&active=true");
        var active = Assert.Single(alerts.GetProperty("active").EnumerateArray());
        Assert.Equal(("cpu", "emergency"), (active.GetProperty("series").GetString(), active.GetProperty("level").GetString()));
        var log = await Http.GetFromJsonAsync<JsonElement>($"/v1/resources/alerts?node=web-9&level=info&since={Uri.EscapeDataString(now.AddMinutes(-1).ToString("O"))}");
        Assert.Contains(log.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "notice" && e.GetProperty("series").GetString() == "gpu:0");

        var summary = await Http.GetFromJsonAsync<JsonElement>("/v1/resources/summary?window=60m");
        var nodes = summary.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node").GetString()).ToArray();
        Assert.Contains("web-9", nodes);
        Assert.Contains(summary.GetProperty("cluster").EnumerateArray(), m => m.GetProperty("metric").GetString() == "cpu" && m.GetProperty("max").GetDouble() >= 97);

        var metrics = await Http.GetStringAsync("/metrics");
        Assert.Contains("kyros_host_cpu_percent{node=\"web-9\"} 97\n", metrics);
        Assert.Contains("kyros_host_gpu_utilization_percent{node=\"web-9\",subject=\"0\"} 40\n", metrics);
        Assert.Contains("kyros_host_alerts_active{node=\"web-9\",level=\"emergency\"} 1\n", metrics);

        var scaling = await Http.GetFromJsonAsync<JsonElement>("/v1/resources/scaling");
        var scopes = scaling.GetProperty("recommendations").EnumerateArray().Select(r => r.GetProperty("scope").GetString()).ToArray();
        Assert.Contains("web", scopes);
        Assert.Contains("cluster", scopes);
    }

    [Fact]
    public async Task A_sample_without_a_node_takes_the_node_from_the_path()
    {
        var body = $$"""{"timestamp": "{{DateTimeOffset.UtcNow:O}}", "cpu_percent": 42, "networks": [{"interface": "eth0", "receive_bytes_per_second": 10, "transmit_bytes_per_second": 20}]}""";
        Assert.Equal(HttpStatusCode.OK, (await Http.PostAsync("/v1/resources/nodes/pathless-1/samples", Json(body))).StatusCode);
        var summary = await Http.GetFromJsonAsync<JsonElement>("/v1/resources/nodes/pathless-1?window=5m");
        Assert.Equal("pathless-1", summary.GetProperty("node").GetString());
        var cpu = summary.GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("series").GetString() == "cpu");
        Assert.Equal(42, cpu.GetProperty("latest").GetDouble());
    }

    [Theory]
    [InlineData("""{"node": "web-8", "timestamp": "NOW", "cpu_percent": 150}""", "cpu_percent")]
    [InlineData("""{"node": "web-8", "timestamp": "NOW", "cpu_percent": "high"}""", "cpu_percent")]
    [InlineData("""{"node": "web-8", "timestamp": "NOW", "disks": [{"mount": "/", "used_bytes": -1, "total_bytes": 5}]}""", "disks[0].used_bytes")]
    [InlineData("""{"node": "web-8", "timestamp": "FUTURE", "cpu_percent": 5}""", "timestamp")]
    [InlineData("""{"node": "other", "timestamp": "NOW", "cpu_percent": 5}""", "node")]
    [InlineData("""[{"node": "web-8", "timestamp": "NOW", "cpu_percent": 5}, {"node": "web-8", "timestamp": "NOW", "memory_percent": -2}]""", "[1].memory_percent")]
    [InlineData("""[{"node": "web-8", "timestamp": "NOW", "cpu_percent": 5}, {"node": "web-8", "timestamp": "NOW", "cpu_percnt": 5}]""", "[1].cpu_percnt")]
    [InlineData("""{"node": "web-8", "timestamp": "NOW", "disks": [{"mount": "/", "total_bytes": 5}]}""", "disks[0].used_bytes")]
    [InlineData("""{"node": "web-8", "timestamp": "NOW", "disks": [{"mount": "/", "used_bytes": 1, "total_bytes": 5, "free": 4}]}""", "disks[0].free")]
    [InlineData("""{"node": "web-8", "cpu_percent": 5}""", "timestamp")]
    [InlineData("""{"node": "web-8", "timestamp": "NOW", "cpu_percent": 5""", "body")]
    public async Task Bad_samples_are_400_naming_the_field_and_store_nothing(string body, string field)
    {
        body = body.Replace("NOW", DateTimeOffset.UtcNow.ToString("O")).Replace("FUTURE", DateTimeOffset.UtcNow.AddHours(1).ToString("O"));
        var response = await Http.PostAsync("/v1/resources/nodes/web-8/samples", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v1/resources/nodes/web-8")).StatusCode);
    }

    [Fact]
    public async Task Bad_thresholds_and_alert_queries_are_refused_naming_the_field_and_change_nothing()
    {
        async Task Expect(HttpResponseMessage response, HttpStatusCode status, string field)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        await Expect(await Http.PutAsync("/v1/resources/thresholds/cpu", Json("""{"warning": 90, "critical": 80, "emergency": 95}""")), HttpStatusCode.BadRequest, "critical");
        await Expect(await Http.PutAsync("/v1/resources/thresholds/cpu", Json("""{"warning": 70, "critical": 80, "emergency": 101}""")), HttpStatusCode.BadRequest, "emergency");
        await Expect(await Http.PutAsync("/v1/resources/thresholds/cpu", Json("""{"warnin": 70, "critical": 80, "emergency": 90}""")), HttpStatusCode.BadRequest, "warnin");
        await Expect(await Http.PutAsync("/v1/resources/thresholds/cpu", Json("""{"critical": 80, "emergency": 90}""")), HttpStatusCode.BadRequest, "warning");
        await Expect(await Http.PutAsync("/v1/resources/thresholds/cpuu", Json("""{"warning": 70, "critical": 80, "emergency": 90}""")), HttpStatusCode.NotFound, "metric");
        await Expect(await Http.PutAsync("/v1/resources/thresholds/cpu?node=nowhere", Json("""{"warning": 70, "critical": 80, "emergency": 90}""")), HttpStatusCode.NotFound, "node");
        await Expect(await Http.GetAsync("/v1/resources/alerts?level=severe"), HttpStatusCode.BadRequest, "level");
        await Expect(await Http.GetAsync("/v1/resources/alerts?level=info,warning"), HttpStatusCode.BadRequest, "level");
        await Expect(await Http.GetAsync("/v1/resources/thresholds/connections"), HttpStatusCode.NotFound, "metric");
        await Expect(await Http.GetAsync("/v1/resources/alerts?since=yesterday"), HttpStatusCode.BadRequest, "since");
        await Expect(await Http.GetAsync("/v1/resources/summary?window=2h"), HttpStatusCode.BadRequest, "window");

        var cpu = await Http.GetFromJsonAsync<JsonElement>("/v1/resources/thresholds/cpu");
        Assert.Equal(("default", 70.0), (cpu.GetProperty("scope").GetString(), cpu.GetProperty("levels").GetProperty("warning").GetDouble()));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_alert_stream_sends_an_alert_as_it_is_raised_and_series_refuse_bad_points()
    {
        var node = $"sse-{Guid.NewGuid():N}"[..12];
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/resources/alerts/stream?node={node}&level=warning");
        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        async Task<(string Event, string Data)> NextAsync()
        {
            string? name = null, data = null;
            while (await reader.ReadLineAsync(patience.Token) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
                else if (line.Length == 0 && name is not null) return (name, data ?? "");
            }
            throw new EndOfStreamException();
        }
        Assert.Equal("ready", (await NextAsync()).Event);

        var now = DateTimeOffset.UtcNow;
        var hot = Enumerable.Range(0, 2).Select(i => new { timestamp = now.AddSeconds(i - 2), cpu_percent = 99.0 }).ToArray();
        (await Http.PostAsJsonAsync($"/v1/resources/nodes/{node}/samples", hot)).EnsureSuccessStatusCode();
        var (name, data) = await NextAsync();
        while (name == "ping") (name, data) = await NextAsync();
        Assert.Equal("alert", name);
        var alert = JsonDocument.Parse(data).RootElement;
        Assert.Equal((node, "cpu", "raised", "emergency"),
            (alert.GetProperty("node").GetString(), alert.GetProperty("series").GetString(), alert.GetProperty("kind").GetString(), alert.GetProperty("level").GetString()));

        var series = await Http.GetFromJsonAsync<JsonElement>($"/v1/resources/nodes/{node}/series?window=15m&points=10");
        Assert.Equal([99.0, 99.0], series.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("series").GetString() == "cpu")
            .GetProperty("values").EnumerateArray().Select(v => v.GetDouble()));
        using var badPoints = await Http.GetAsync($"/v1/resources/nodes/{node}/series?points=1");
        Assert.Equal(HttpStatusCode.BadRequest, badPoints.StatusCode);
        Assert.Equal("points", (await badPoints.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        using var unknown = await Http.GetAsync("/v1/resources/nodes/no-such-host/series");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
