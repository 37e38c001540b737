using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Http;

/// <summary>
/// What a writer that sends without bound receives once a cap is reached: hosts in the cluster, series of a host,
/// samples closer than the least interval, alert streams of one caller, HTTP connections; each a clear 4xx and nothing
/// of the refused push taken.
/// </summary>
public sealed class CapsTests
{
    [Fact]
    public void A_host_refuses_samples_closer_than_the_least_interval_and_series_beyond_its_cap_taking_none_of_the_push()
    {
        var options = new ResourceOptions { MinSampleInterval = TimeSpan.FromSeconds(1), MaxSeriesPerHost = 20 };
        var monitor = new NodeMonitor("h1", options);
        var start = DateTimeOffset.UtcNow.AddMinutes(-1);
        ResourceSample At(double seconds, int disks = 0) => new()
        {
            Node = "h1", Timestamp = start.AddSeconds(seconds), CpuPercent = 10,
            Disks = [.. Enumerable.Range(0, disks).Select(d => new DiskSample($"/d{d}", 1, 2))],
        };
        monitor.RequireWithinCaps([At(0), At(1), At(2.5)]);
        var close = Assert.Throws<ArgumentException>(() => monitor.RequireWithinCaps([At(0), At(0.5)]));
        Assert.Equal("[1].timestamp", close.ParamName);
        Assert.Contains("Kyros:Resources:MinSampleInterval", close.Message);
        monitor.Ingest(At(0), _ => null);
        Assert.Equal("timestamp", Assert.Throws<ArgumentException>(() => monitor.RequireWithinCaps([At(0.2)])).ParamName);

        // Each disk is a series: past 20 in all, the push is refused whole, and the host holds what it held.
        monitor.RequireWithinCaps([At(1, disks: 19)]);
        var wide = Assert.Throws<ArgumentException>(() => monitor.RequireWithinCaps([At(1, disks: 5), At(2, disks: 25)]));
        Assert.Equal("samples", wide.ParamName);
        Assert.Contains("Kyros:Resources:MaxSeriesPerHost", wide.Message);
        monitor.Ingest(At(1, disks: 19), _ => null);
        // Series it holds already do not count again.
        monitor.RequireWithinCaps([At(2, disks: 19)]);
    }

    [Fact]
    public async Task Hosts_past_the_clusters_cap_and_alert_streams_past_a_callers_are_refused_and_a_closed_stream_frees_its_place()
    {
        await using var silo = await HttpSilo.StartAsync(null, "--Kyros:Resources:MaxHosts=3", "--Kyros:Resources:SampleLocalHost=false",
            "--Kyros:Alerts:MaxStreamsPerCaller=2");
        var http = silo.Http;
        var now = DateTimeOffset.UtcNow;
        foreach (var host in new[] { "cap-a", "cap-b", "cap-c" })
            (await http.PostAsJsonAsync($"/v1/resources/nodes/{host}/samples", new[] { new { timestamp = now.AddSeconds(-1), cpu_percent = 10.0 } })).EnsureSuccessStatusCode();
        using (var fourth = await http.PostAsJsonAsync("/v1/resources/nodes/cap-d/samples", new[] { new { timestamp = now.AddSeconds(-1), cpu_percent = 10.0 } }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, fourth.StatusCode);
            var problem = await fourth.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("node", problem.GetProperty("field").GetString());
            Assert.Contains("Kyros:Resources:MaxHosts", problem.GetProperty("detail").GetString());
        }
        // A host already known still reports.
        (await http.PostAsJsonAsync("/v1/resources/nodes/cap-a/samples", new[] { new { timestamp = now, cpu_percent = 11.0 } })).EnsureSuccessStatusCode();
        var nodes = (await http.GetFromJsonAsync<JsonElement>("/v1/resources/nodes")).GetProperty("nodes").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.DoesNotContain("cap-d", nodes);

        var first = await OpenStreamAsync(http);
        var second = await OpenStreamAsync(http);
        using (var third = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/resources/alerts/stream"), HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(5), third.Headers.RetryAfter!.Delta);
            Assert.Equal("stream", (await third.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        first.Dispose();
        // The closed stream's place comes back once the silo sees the connection go.
        var reopened = await Eventually.UntilAsync(async () =>
        {
            var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/resources/alerts/stream"), HttpCompletionOption.ResponseHeadersRead);
            if (response.StatusCode == HttpStatusCode.OK) return response;
            response.Dispose();
            return null;
        }, r => r is not null, TimeSpan.FromSeconds(20));
        reopened!.Dispose();
        second.Dispose();
    }

    [Fact]
    public async Task Connections_past_the_silos_cap_are_closed_and_one_freed_lets_the_next_in()
    {
        await using var silo = await HttpSilo.StartAsync(null, "--Kyros:MaxHttpConnections=2");
        var address = silo.Http.BaseAddress!;
        using var first = new TcpClient();
        using var second = new TcpClient();
        await first.ConnectAsync(address.Host, address.Port);
        await second.ConnectAsync(address.Host, address.Port);
        // Both held open and counted: a third connection is closed without an answer.
        await Eventually.UntilAsync(async () =>
        {
            using var fresh = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            try
            {
                using var answer = await fresh.GetAsync("/healthz");
                return false;
            }
            catch (HttpRequestException)
            {
                return true;
            }
        }, refused => refused, TimeSpan.FromSeconds(10));
        first.Close();
        await Eventually.UntilAsync(async () =>
        {
            using var fresh = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
            try
            {
                using var answer = await fresh.GetAsync("/healthz");
                return answer.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, served => served, TimeSpan.FromSeconds(20));
    }

    private static async Task<HttpResponseMessage> OpenStreamAsync(HttpClient http)
    {
        var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/v1/resources/alerts/stream"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response;
    }
}
