using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kyros.Perf.Tests.Processes;

/// <summary>Faults as an operator meets them, on real silo processes and a Redis of the test's own: what callers receive, and what is lost.</summary>
[Collection(FaultsCollection.Name)]
public sealed class FaultProcessTests(ITestOutputHelper output, RedisServer shared)
{
    private static readonly string[] Models = ["gpt-4", "claude", "gemini-pro"];

    [Fact]
    public async Task While_redis_is_frozen_writes_get_503s_within_the_bound_and_once_it_returns_nothing_acknowledged_is_lost()
    {
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        Assert.SkipUnless(redis.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own to freeze.");
        // The connection as an operator writes it, without the suite's long timeouts: the silo's StoreTimeout (2 s) applies.
        var connection = redis.ConnectionString.Split(',')[0];
        var serviceId = $"freeze-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-freeze-").FullName;
        var silos = await Task.WhenAll(new[] { "silo-a", "silo-b" }.Select(name => SiloProcess.StartAsync(connection, serviceId, name, data)));
        try
        {
            var writers = new RecordWriters([.. silos.Select(s => s.HttpUrl)], Models);
            using var stop = new CancellationTokenSource();
            var running = writers.RunAsync(stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3));
            var before = writers.Acknowledged;
            redis.Freeze();
            await Task.Delay(TimeSpan.FromSeconds(10));
            redis.Thaw();
            var thawed = writers.Answers.Count;
            await Task.Delay(TimeSpan.FromSeconds(8));
            await stop.CancelAsync();
            await running;

            var answers = writers.Answers;
            foreach (var group in answers.GroupBy(a => a.Status))
                output.WriteLine($"{group.Key}: {group.Count()}, slowest {group.Max(a => a.Took).TotalSeconds:0.00} s; {group.First().Body}");
            foreach (var line in silos.SelectMany(s => s.Log).SkipWhile(l => !l.Contains("Unhandled error")).Take(40)) output.WriteLine(line);
            Assert.True(before > 0, "writes went through before the freeze");
            // Only 200s and 503s, every 503 with Retry-After and within the bound: no 500, no hang.
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)a.Status}: {a.Body}"));
            var unavailable = answers.Where(a => a.Status == HttpStatusCode.ServiceUnavailable).ToArray();
            Assert.NotEmpty(unavailable);
            Assert.All(unavailable, a => Assert.Equal("1", a.RetryAfter));
            Assert.All(unavailable, a => Assert.True(a.Took < TimeSpan.FromSeconds(4.5), $"a 503 took {a.Took.TotalSeconds:0.0} s"));
            // Once Redis is back, writes go through again by themselves.
            Assert.Contains(answers.Skip(thawed), a => a.Status == HttpStatusCode.OK);

            // Nothing acknowledged is lost.
            foreach (var model in Models)
                Assert.Equal(writers.AcknowledgedByModel.GetValueOrDefault(model), await RecordWriters.CountAsync(silos[0].HttpUrl, model));
        }
        finally
        {
            redis.Thaw();
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task Kill_9_of_a_silo_under_load_loses_nothing_answers_no_500_and_writes_resume_within_5_s()
    {
        await using var redis = new RedisServer();
        await redis.InitializeAsync();
        var connection = redis.IsOwn ? redis.ConnectionString.Split(',')[0] : redis.ConnectionString;
        var serviceId = $"kill-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-kill-").FullName;
        var silos = await Task.WhenAll(new[] { "silo-a", "silo-b", "silo-c" }.Select(name => SiloProcess.StartAsync(connection, serviceId, name, data)));
        try
        {
            using var host = await ClientHost.StartAsync(connection, serviceId);
            var client = host.Services.GetRequiredService<Kyros.Perf.Client.KyrosPerfClient>();
            var writers = new RecordWriters([.. silos.Select(s => s.HttpUrl)], Models);
            using var stop = new CancellationTokenSource();
            var running = writers.RunAsync(stop.Token);
            // And one SDK caller with default settings, writing gpt-4 too: it must see no error at all.
            var sdkAcknowledged = 0L;
            var sdkWriter = Task.Run(async () =>
            {
                for (var batch = 0; !stop.IsCancellationRequested; batch++)
                {
                    var records = Enumerable.Range(0, 10).Select(i => Records.Valid("gpt-4", 0.5, requestId: $"sdk-b{batch}-r{i}")).ToArray();
                    // A try that timed out may have been written: its retry finds the records as duplicates, stored all the same.
                    var result = await client.RecordBatchAsync(records);
                    sdkAcknowledged += result.Recorded + result.Duplicates;
                    await Task.Delay(20);
                }
            });
            await Task.Delay(TimeSpan.FromSeconds(4));
            // The victim is the silo that holds gpt-4's grain: its writers must wait for it to move.
            var holder = (await host.Services.GetRequiredService<IClusterClient>().GetGrain<IModelStatsGrain>("gpt-4").GetInfoAsync()).ProcessId;
            silos.Single(s => s.ProcessId == holder).KillHard();
            await Task.Delay(TimeSpan.FromSeconds(12));
            await stop.CancelAsync();
            await running;
            await sdkWriter;
            Assert.True(sdkAcknowledged > 0);

            var answers = writers.Answers;
            foreach (var group in answers.GroupBy(a => a.Status))
                output.WriteLine($"{group.Key}: {group.Count()}, slowest {group.Max(a => a.Took).TotalSeconds:0.00} s; {group.First().Body}");
            output.WriteLine($"acknowledged {writers.Acknowledged}; longest gap {writers.LongestGap().TotalSeconds:0.00} s, of gpt-4 {writers.LongestGap("gpt-4").TotalSeconds:0.00} s");
            // Refused connections to the dead silo (status 0) and 503s only: no 500.
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable or 0, $"{(int)a.Status}: {a.Body}"));
            Assert.All(Models, model => Assert.True(writers.LongestGap(model) < TimeSpan.FromSeconds(5), $"{model}'s writes stopped for {writers.LongestGap(model).TotalSeconds:0.0} s"));
            var survivor = silos.First(s => !s.HasExited);
            foreach (var model in Models)
                Assert.Equal(writers.AcknowledgedByModel.GetValueOrDefault(model) + (model == "gpt-4" ? sdkAcknowledged : 0), await RecordWriters.CountAsync(survivor.HttpUrl, model));
            await host.StopAsync();
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_generation_answered_just_before_its_silo_is_killed_has_its_record()
    {
        var serviceId = $"answer-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-answer-").FullName;
        var silos = await Task.WhenAll(new[] { "silo-a", "silo-b" }.Select(name =>
            SiloProcess.StartAsync(shared.ConnectionString, serviceId, name, data, "--Kyros:Gateway:SimulationTimeScale=0.01")));
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var requestIds = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                using var response = await http.PostAsync($"{silos[0].HttpUrl}/v1/models/generate",
                    new StringContent("""{"prompt": "Say hello.", "model": "gpt-4"}""", Encoding.UTF8, "application/json"));
                if (response.StatusCode != HttpStatusCode.OK) continue; // the simulated model fails now and then, as models do
                requestIds.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("request_id").GetString()!);
            }
            // Killed the moment its last answer is out.
            silos[0].KillHard();
            Assert.NotEmpty(requestIds);

            var recorded = new HashSet<string>();
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!requestIds.All(recorded.Contains) && DateTime.UtcNow < deadline)
            {
                using var recent = await http.GetAsync($"{silos[1].HttpUrl}/v1/performance/models/gpt-4/records?limit=100");
                if (recent.IsSuccessStatusCode)
                    foreach (var record in (await recent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("records").EnumerateArray())
                        recorded.Add(record.GetProperty("request_id").GetString()!);
                else Assert.Equal(HttpStatusCode.ServiceUnavailable, recent.StatusCode); // while gpt-4's grain moves
                await Task.Delay(200);
            }
            Assert.All(requestIds, id => Assert.Contains(id, recorded));
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_rolling_restart_of_three_silos_under_load_gives_sdk_callers_no_error_and_loses_nothing()
    {
        var serviceId = $"roll-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-roll-").FullName;
        var names = new[] { "silo-a", "silo-b", "silo-c" };
        var silos = (await Task.WhenAll(names.Select(name => SiloProcess.StartAsync(shared.ConnectionString, serviceId, name, data)))).ToList();
        try
        {
            using var host = await ClientHost.StartAsync(shared.ConnectionString, serviceId);
            var client = host.Services.GetRequiredService<Kyros.Perf.Client.KyrosPerfClient>();
            using var stop = new CancellationTokenSource();
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            var acknowledged = new long[Models.Length];
            var acknowledgedAt = new System.Collections.Concurrent.ConcurrentQueue<TimeSpan>();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            // Three SDK callers with default settings, one a model, writing batches with unique request ids and routing.
            var callers = Models.Select((model, m) => Task.Run(async () =>
            {
                for (var batch = 0; !stop.IsCancellationRequested; batch++)
                {
                    try
                    {
                        var records = Enumerable.Range(0, 10).Select(i => Records.Valid(model, 0.5, requestId: $"roll-{model}-b{batch}-r{i}")).ToArray();
                        var result = await client.RecordBatchAsync(records);
                        acknowledged[m] += result.Recorded + result.Duplicates;
                        acknowledgedAt.Enqueue(clock.Elapsed);
                        await client.RouteAsync(new Kyros.Perf.Routing.RoutingRequest(new Kyros.Perf.Routing.RequestFeatures { EstimatedTokens = 100 }));
                    }
                    catch (Exception exception)
                    {
                        errors.Enqueue(exception);
                    }
                    await Task.Delay(20);
                }
            })).ToArray();

            await Task.Delay(TimeSpan.FromSeconds(3));
            for (var i = 0; i < silos.Count; i++)
            {
                var leaving = System.Diagnostics.Stopwatch.StartNew();
                Assert.True(await silos[i].StopGracefullyAsync(TimeSpan.FromSeconds(40)), $"{names[i]} did not leave within 40 s");
                output.WriteLine($"{names[i]} left in {leaving.Elapsed.TotalSeconds:0.0} s with exit code {silos[i].ExitCode}");
                Assert.Equal(0, silos[i].ExitCode);
                await silos[i].DisposeAsync();
                silos[i] = await SiloProcess.StartAsync(shared.ConnectionString, serviceId, names[i], data);
            }
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            await Task.WhenAll(callers);

            output.WriteLine($"acknowledged {acknowledged.Sum()}, errors {errors.Count}: {string.Join(" | ", errors.Take(3).Select(e => e.Message))}; " +
                             $"longest gap between acknowledged writes {RecordWriters.LongestGapOf(acknowledgedAt).TotalSeconds:0.00} s");
            Assert.Empty(errors);
            for (var m = 0; m < Models.Length; m++)
            {
                Assert.True(acknowledged[m] > 0);
                Assert.Equal(acknowledged[m], await RecordWriters.CountAsync(silos[0].HttpUrl, Models[m]));
            }
            await host.StopAsync();
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }
}
