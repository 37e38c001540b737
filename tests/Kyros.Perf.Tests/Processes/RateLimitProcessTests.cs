using System.Diagnostics;
using System.Net;
using System.Text;
using Kyros.Perf.Client;
using Kyros.Perf.Routing;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// The operator's scenario: a model limited to 60 requests a minute, three silo processes on one Redis, callers on every
/// silo over HTTP and one through the SDK, for a minute and a few seconds of demand far above the limit.
/// </summary>
public sealed class RateLimitProcessTests(RedisServer redis)
{
    private const int RequestsPerMinute = 60;

    [Fact]
    public async Task Three_silo_processes_admit_the_limit_in_every_sliding_minute_through_http_and_the_sdk_alike()
    {
        var serviceId = $"rate-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-rate-").FullName;
        string[] catalog = ["--Kyros:Catalog:Models:0:Id=limited", $"--Kyros:Catalog:Models:0:RequestsPerMinute={RequestsPerMinute}"];
        var started = await Task.WhenAll(new[] { "silo-a", "silo-b", "silo-c" }.Select(name => SiloProcess.StartAsync(redis.ConnectionString, serviceId, name, data, catalog)));
        await using var a = started[0];
        await using var b = started[1];
        await using var c = started[2];
        using var host = await ClientHost.StartAsync(o =>
        {
            o.Redis = redis.ConnectionString;
            o.ServiceId = serviceId;
            o.ClusterId = serviceId;
        });
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        var admitted = new List<TimeSpan>();
        var refused = 0;
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(64);
        async Task CallAsync(Func<Task<bool>> call)
        {
            while (clock.Elapsed < end)
            {
                var ok = await call();
                lock (admitted)
                    if (ok) admitted.Add(clock.Elapsed);
                    else refused++;
                await Task.Delay(50);
            }
        }
        // Three callers a silo over HTTP, about 20 requests a second each, and one through the SDK: far above 1 a second.
        var body = """{"request_features": {"estimated_tokens": 100}, "available_models": ["limited"]}""";
        var callers = new[] { a, b, c }.SelectMany(silo => Enumerable.Range(0, 3).Select(_ => CallAsync(async () =>
        {
            using var response = await http.PostAsync($"{silo.HttpUrl}/v1/models/route", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"route answered {(int)response.StatusCode}");
            return response.IsSuccessStatusCode;
        }))).Append(CallAsync(async () =>
        {
            try
            {
                await client.RouteAsync(new RoutingRequest(new RequestFeatures { EstimatedTokens = 100 }, ["limited"]));
                return true;
            }
            catch (NoCandidateException refusal) when (refusal.Temporary)
            {
                return false;
            }
        }));
        await Task.WhenAll(callers);

        admitted.Sort();
        Assert.True(refused > 1_000, $"{refused} refused: demand was far above the limit");
        // Every sliding minute admits at most the limit (one more for a response timed just past a minute's edge).
        for (var i = 0; i < admitted.Count; i++)
        {
            var inMinute = admitted.Skip(i).TakeWhile(t => t - admitted[i] < TimeSpan.FromMinutes(1)).Count();
            Assert.True(inMinute <= RequestsPerMinute + 1, $"{inMinute} admitted in the minute from {admitted[i].TotalSeconds:0.0} s");
        }
        // And the cluster admits close to the limit, not a fraction of it.
        Assert.InRange(admitted.Count(t => t < TimeSpan.FromSeconds(60)), 50, RequestsPerMinute + 1);

        // Each silo shows where it stands: spending a lease, with the cluster's holding within the limit.
        var state = await client.GetRouterStateAsync();
        var limit = state.Models.Single(m => m.Model == "limited").RateLimit!;
        Assert.Equal(RateLimitMode.Lease, limit.Mode);
        Assert.InRange(limit.ClusterRequests!.Value, 0, RequestsPerMinute);
        await host.StopAsync();
    }
}
