using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
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
[Collection(FaultsCollection.Name)]
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
        using var host = await ClientHost.StartAsync(redis.ConnectionString, serviceId);
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

        // Each admitted request's send and answer: the silo admitted it somewhere between the two.
        var admitted = new List<(TimeSpan Sent, TimeSpan Answered)>();
        var refused = 0;
        var clock = Stopwatch.StartNew();
        var end = TimeSpan.FromSeconds(64);
        async Task CallAsync(Func<Task<bool>> call)
        {
            while (clock.Elapsed < end)
            {
                var sent = clock.Elapsed;
                var ok = await call();
                lock (admitted)
                    if (ok) admitted.Add((sent, clock.Elapsed));
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
        // No minute admits more than the limit: counting, from each admission's send, those surely admitted within the
        // next minute (sent and answered inside it), so that a slow answer on a busy machine cannot move one across.
        foreach (var (from, _) in admitted)
        {
            var inMinute = admitted.Count(a => a.Sent >= from && a.Answered < from + TimeSpan.FromMinutes(1));
            Assert.True(inMinute <= RequestsPerMinute, $"{inMinute} admitted in the minute from {from.TotalSeconds:0.0} s");
        }
        // And the cluster admits close to the limit, not a fraction of it.
        Assert.InRange(admitted.Count(a => a.Answered < TimeSpan.FromSeconds(60)), 50, RequestsPerMinute);

        // Each silo shows where it stands: spending a lease, with the cluster's holding within the limit.
        var state = await client.GetRouterStateAsync();
        var limit = state.Models.Single(m => m.Model == "limited").RateLimit!;
        Assert.Equal(RateLimitMode.Lease, limit.Mode);
        Assert.InRange(limit.ClusterRequests!.Value, 0, RequestsPerMinute);
        await host.StopAsync();
    }

    [Fact]
    public async Task While_redis_hangs_and_the_lease_grain_cannot_answer_each_silo_keeps_to_an_even_share_and_says_so()
    {
        // A Redis of this test's own, to freeze without touching the other tests'.
        await using var own = new RedisServer();
        await own.InitializeAsync();
        Assert.SkipUnless(own.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own to freeze.");
        var serviceId = $"share-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-share-").FullName;
        string[] catalog = ["--Kyros:Catalog:Models:0:Id=limited", $"--Kyros:Catalog:Models:0:RequestsPerMinute={RequestsPerMinute}"];
        var silos = await Task.WhenAll(new[] { "silo-a", "silo-b", "silo-c" }.Select(name => SiloProcess.StartAsync(own.ConnectionString, serviceId, name, data, catalog)));
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            async Task<JsonElement> LimitOf(SiloProcess silo) =>
                (await http.GetFromJsonAsync<JsonElement>($"{silo.HttpUrl}/v1/models/health")).GetProperty("models").EnumerateArray()
                .Single(m => m.GetProperty("model").GetString() == "limited").GetProperty("rate_limit");
            // Every silo has heard the lease grain, and knows the two others.
            foreach (var silo in silos)
                await Eventually.UntilAsync(() => LimitOf(silo), l => l.GetProperty("mode").GetString() == "lease" && l.GetProperty("silos").GetInt32() == 3);

            own.Freeze();
            // The grain's storage hangs, so the grain cannot answer: within LeaseStaleAfter each silo keeps to its share.
            foreach (var silo in silos)
                await Eventually.UntilAsync(() => LimitOf(silo), l => l.GetProperty("mode").GetString() == "share", TimeSpan.FromSeconds(15));

            // Demand far above the limit on every silo for 8 s: each admits its share (60 / 3), what it spent of its lease included.
            var body = """{"request_features": {"estimated_tokens": 100}, "available_models": ["limited"]}""";
            var admitted = await Task.WhenAll(silos.Select(async silo =>
            {
                var count = 0;
                var until = DateTime.UtcNow.AddSeconds(8);
                while (DateTime.UtcNow < until)
                {
                    using var response = await http.PostAsync($"{silo.HttpUrl}/v1/models/route", new StringContent(body, Encoding.UTF8, "application/json"));
                    if (response.IsSuccessStatusCode) count++;
                    else
                    {
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        var problem = await response.Content.ReadAsStringAsync();
                        Assert.Contains("an even share among 3 silos", problem);
                    }
                    await Task.Delay(20);
                }
                return count;
            }));
            Assert.All(admitted, count => Assert.InRange(count, 1, RequestsPerMinute / 3));
            Assert.InRange(admitted.Sum(), RequestsPerMinute / 2, RequestsPerMinute);
        }
        finally
        {
            own.Thaw();
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }
}
