using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// Redis losing what it held, on real silo processes and a Redis of the test's own: what callers are told, and what of
/// it survives a silo's death and a restart of the whole cluster afterwards.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class RedisLossProcessTests(ITestOutputHelper output)
{
    private static readonly string[] Models = ["gpt-4", "claude", "gemini-pro"];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Redis_flushed_under_load_is_found_and_written_back_so_a_silo_killed_15_s_later_and_then_the_whole_cluster_lose_nothing()
    {
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        Assert.SkipUnless(redis.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own to flush.");
        var connection = redis.ConnectionString.Split(',')[0];
        var serviceId = $"flush-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-flush-").FullName;
        var silos = (await Task.WhenAll(new[] { "silo-a", "silo-b", "silo-c" }.Select(name => SiloProcess.StartAsync(connection, serviceId, name, data)))).ToList();
        try
        {
            using var host = await ClientHost.StartAsync(connection, serviceId);
            var grains = host.Services.GetRequiredService<IClusterClient>();
            // Grain state other than records: a catalog edit acknowledged before the loss.
            using (var added = await _http.PostAsync($"{silos[0].HttpUrl}/v1/models", Json(new { id = "kept-model", provider = "simulated", input_price_per1k = 0.01, output_price_per1k = 0.02 })))
                Assert.Equal(HttpStatusCode.Created, added.StatusCode);
            var epochBefore = (await RedisHealthAsync(silos[0])).GetProperty("epoch").GetString();

            var writers = new RecordWriters([.. silos.Select(s => s.HttpUrl)], Models);
            using var stop = new CancellationTokenSource();
            var running = writers.RunAsync(stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.True(writers.Acknowledged > 0, "writes went through before the loss");

            await using (var admin = await ConnectionMultiplexer.ConnectAsync($"{connection},allowAdmin=true"))
                await admin.GetServers()[0].FlushAllDatabasesAsync();
            var flushed = Stopwatch.StartNew();
            // Every silo finds the loss and writes back what it holds; /healthz says so.
            await Eventually.UntilAsync(async () => await Task.WhenAll(silos.Select(RedisHealthAsync)),
                all => all.All(h => h.GetProperty("epoch").GetString() != epochBefore && h.GetProperty("repaired_at").ValueKind == JsonValueKind.String),
                TimeSpan.FromSeconds(30));
            output.WriteLine($"every silo written back {flushed.Elapsed.TotalSeconds:0.00} s after FLUSHALL");

            await Task.Delay(TimeSpan.FromSeconds(15) - flushed.Elapsed);
            var holder = (await grains.GetGrain<IModelStatsGrain>("gpt-4").GetInfoAsync()).ProcessId;
            var victim = silos.Single(s => s.ProcessId == holder);
            victim.KillHard();
            var killedAt = flushed.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(12));
            await stop.CancelAsync();
            await running;

            var answers = writers.Answers;
            foreach (var group in answers.GroupBy(a => a.Status))
                output.WriteLine($"{group.Key}: {group.Count()}, slowest {group.Max(a => a.Took).TotalSeconds:0.00} s; {group.First().Body}");
            output.WriteLine($"acknowledged {writers.Acknowledged}; longest gap {writers.LongestGap().TotalSeconds:0.00} s, of gpt-4 {writers.LongestGap("gpt-4").TotalSeconds:0.00} s; killed at {killedAt.TotalSeconds:0.0} s");
            foreach (var line in silos.SelectMany(s => s.Log).Where(l => l.Contains("Redis came back") || l.Contains("Written back") || l.Contains("fail")).Take(20)) output.WriteLine(line);
            // 503s with Retry-After and refused connections to the killed silo only: no 500.
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable or 0, $"{(int)a.Status}: {a.Body}"));
            Assert.All(answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable), a => Assert.Equal("1", a.RetryAfter));
            Assert.All(Models, model => Assert.True(writers.LongestGap(model) < TimeSpan.FromSeconds(30), $"{model}'s writes stopped for {writers.LongestGap(model).TotalSeconds:0.0} s"));
            var survivor = silos.First(s => !s.HasExited);
            foreach (var model in Models)
                Assert.Equal(writers.AcknowledgedByModel.GetValueOrDefault(model), await RecordWriters.CountAsync(survivor.HttpUrl, model));
            await host.StopAsync();

            // And from Redis alone: a silo started afresh, then the silos that lived through the loss killed one after the
            // other (each declared dead before the next goes). The new one holds every acknowledged record and the catalog
            // edit from what was written back.
            var fresh = await SiloProcess.StartAsync(connection, serviceId, "silo-d", data);
            var survivors = silos.Where(s => !s.HasExited).ToList();
            // Disposed with the others however the test ends: a failure must not leave a silo process behind.
            silos.Add(fresh);
            foreach (var silo in survivors)
            {
                silo.KillHard();
                foreach (var model in Models)
                {
                    var expected = writers.AcknowledgedByModel.GetValueOrDefault(model);
                    // Up to two minutes: a read already on its way to the silo just killed waits for Orleans' response timeout
                    // (30 s), and the model's grain then starts again on what Redis holds, on a machine busy with other tests.
                    var recovering = Stopwatch.StartNew();
                    var count = await Eventually.UntilAsync(() => CountOrNoneAsync(fresh, model), count => count >= 0, TimeSpan.FromSeconds(120));
                    output.WriteLine($"{model} counted by the new silo {recovering.Elapsed.TotalSeconds:0.0} s after {silo.Name} was killed");
                    Assert.Equal(expected, count);
                }
            }
            using var kept = await _http.GetAsync($"{fresh.HttpUrl}/v1/models/kept-model");
            Assert.Equal(HttpStatusCode.OK, kept.StatusCode);
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Redis_killed_and_restarted_under_load_comes_back_with_its_aof_and_nothing_acknowledged_is_lost()
    {
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        Assert.SkipUnless(redis.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own to kill.");
        var connection = redis.ConnectionString.Split(',')[0];
        var serviceId = $"aof-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-aof-").FullName;
        var silos = await Task.WhenAll(new[] { "silo-a", "silo-b" }.Select(name => SiloProcess.StartAsync(connection, serviceId, name, data)));
        try
        {
            var epochBefore = (await RedisHealthAsync(silos[0])).GetProperty("epoch").GetString();
            var writers = new RecordWriters([.. silos.Select(s => s.HttpUrl)], Models);
            using var stop = new CancellationTokenSource();
            var running = writers.RunAsync(stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3));
            redis.KillHard();
            await Task.Delay(TimeSpan.FromSeconds(3));
            await redis.RestartAsync();
            var restartedAt = writers.Answers.Count;
            await Task.Delay(TimeSpan.FromSeconds(10));
            await stop.CancelAsync();
            await running;

            var answers = writers.Answers;
            foreach (var group in answers.GroupBy(a => a.Status))
                output.WriteLine($"{group.Key}: {group.Count()}, slowest {group.Max(a => a.Took).TotalSeconds:0.00} s; {group.First().Body}");
            output.WriteLine($"acknowledged {writers.Acknowledged}; longest gap {writers.LongestGap().TotalSeconds:0.00} s");
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)a.Status}: {a.Body}"));
            Assert.Contains(answers, a => a.Status == HttpStatusCode.ServiceUnavailable);
            Assert.Contains(answers.Skip(restartedAt), a => a.Status == HttpStatusCode.OK);
            // The AOF brought the epoch back with the data: nothing to repair.
            Assert.Equal(epochBefore, (await RedisHealthAsync(silos[1])).GetProperty("epoch").GetString());
            foreach (var model in Models)
                Assert.Equal(writers.AcknowledgedByModel.GetValueOrDefault(model), await RecordWriters.CountAsync(silos[1].HttpUrl, model));
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_silo_refuses_to_start_on_a_redis_that_would_lose_acknowledged_writes_unless_told_it_may()
    {
        await using var redis = RedisServer.Volatile();
        await redis.InitializeAsync();
        Assert.SkipUnless(redis.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own without AOF.");
        var connection = redis.ConnectionString.Split(',')[0];
        var serviceId = $"vol-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-vol-").FullName;

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => SiloProcess.StartAsync(connection, serviceId, "silo-a", data));
        Assert.Contains("appendonly no", refused.Message);
        Assert.Contains("Kyros:Redis:AllowVolatile", refused.Message);

        await using var allowed = await SiloProcess.StartAsync(connection, serviceId, "silo-a", data, "--Kyros:Redis:AllowVolatile=true");
        Assert.Contains(allowed.Log, line => line.Contains("appendonly no"));
    }

    private async Task<JsonElement> RedisHealthAsync(SiloProcess silo)
    {
        using var response = await _http.GetAsync($"{silo.HttpUrl}/healthz");
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("redis");
    }

    /// <summary>A model's count, or -1 while the cluster cannot answer (its silos just killed: refused, or no answer in time).</summary>
    private static async Task<long> CountOrNoneAsync(SiloProcess silo, string model)
    {
        try
        {
            return await RecordWriters.CountAsync(silo.HttpUrl, model);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return -1;
        }
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");
}
