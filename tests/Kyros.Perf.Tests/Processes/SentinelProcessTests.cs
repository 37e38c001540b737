using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Client;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// Silo processes and the SDK reaching Redis through Sentinel, with every acknowledged record held by a replica
/// (<c>Kyros:Redis:ReplicaAcks=1</c>): the primary killed under load loses nothing acknowledged.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class SentinelProcessTests(ITestOutputHelper output)
{
    private static readonly string[] Models = ["gpt-4", "claude", "gemini-pro"];

    [Fact]
    public async Task Kill_9_of_the_redis_primary_under_load_loses_nothing_acknowledged_answers_no_500_and_writes_resume_within_15_s()
    {
        await using var redis = await RedisReplicaSet.StartAsync(replicas: 1, sentinels: 3);
        var serviceId = $"sentinel-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-sentinel-silos-").FullName;
        string[] settings = ["--Kyros:Redis:ReplicaAcks=1"];
        var silos = (await Task.WhenAll(new[] { "silo-a", "silo-b" }.Select(name => SiloProcess.StartAsync(redis.ConnectionString, serviceId, name, data, settings)))).ToList();
        try
        {
            using var host = await ClientHost.StartAsync(redis.ConnectionString, serviceId);
            var client = host.Services.GetRequiredService<KyrosPerfClient>();
            var writers = new RecordWriters([.. silos.Select(s => s.HttpUrl)], Models);
            using var stop = new CancellationTokenSource();
            var running = writers.RunAsync(stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(4));

            var clock = Stopwatch.StartNew();
            var killedAt = writers.Elapsed;
            var killed = await redis.KillPrimaryAsync();
            var promoted = await redis.WaitForFailoverAsync(killed, TimeSpan.FromSeconds(15));
            var failover = clock.Elapsed;
            // Its supervisor starts the killed server again: a replica of the new primary, so acknowledged writes have
            // their replica back (with one replica, none can be acknowledged before).
            await redis.RestartAsReplicaAsync(killed);
            var rest = TimeSpan.FromSeconds(12) - clock.Elapsed;
            if (rest > TimeSpan.Zero) await Task.Delay(rest);
            await stop.CancelAsync();
            await running;

            // A silo that joins after the failover (once the writes are done: starting one takes both cores for seconds,
            // which would show as a write gap): clustering reads and writes the membership on the new primary.
            silos.Add(await SiloProcess.StartAsync(redis.ConnectionString, serviceId, "silo-c", data, settings));

            // Counted from Redis alone: the silos that served the writes are killed, and the one left activates every
            // model's grain from its checkpoint and the log. One at a time: a silo is declared dead on the votes of the
            // others that live, and with two killed at once the one left could not outvote them.
            silos[0].KillHard();
            await Eventually.UntilAsync(() => ActiveSilosAsync(silos[2].HttpUrl), active => active == 2, TimeSpan.FromSeconds(30));
            silos[1].KillHard();
            var counted = new Dictionary<string, long>();
            try
            {
                foreach (var model in Models)
                    counted[model] = await Eventually.UntilAsync(() => CountOrNoneAsync(silos[2].HttpUrl, model), count => count >= 0, TimeSpan.FromSeconds(30));
            }
            catch
            {
                output.WriteLine($"silo-c could not count: {_lastCountError}");
                foreach (var line in silos[2].Log.TakeLast(80)) output.WriteLine(line);
                throw;
            }
            // The SDK, which knew silo-a and silo-b, found silo-c through the membership it reads via the Sentinels.
            var viaSdk = await client.GetSummaryAsync("gpt-4", TimeSpan.FromHours(1));

            var answers = writers.Answers;
            var acknowledged = Models.ToDictionary(m => m, m => writers.AcknowledgedByModel.GetValueOrDefault(m));
            output.WriteLine($"primary :{killed} killed; the Sentinels promoted :{promoted} after {failover.TotalSeconds:0.00} s");
            foreach (var group in answers.GroupBy(a => a.Status).OrderBy(g => g.Key))
                output.WriteLine($"{(int)group.Key}: {group.Count()} answers, slowest {group.Max(a => a.Took).TotalSeconds:0.00} s; {group.First().Body}");
            // What the writers got, second by second from the kill.
            foreach (var second in answers.Where(a => a.At >= killedAt).GroupBy(a => (int)(a.At - killedAt).TotalSeconds).OrderBy(g => g.Key))
                output.WriteLine($"  +{second.Key,2} s: " + string.Join(", ", second.GroupBy(a => (int)a.Status).OrderBy(g => g.Key).Select(g => $"{g.Count()} x {g.Key}"))
                                 + string.Concat(second.Where(a => a.Status != HttpStatusCode.OK).Take(2).Select(a => $" | {a.Took.TotalSeconds:0.0} s {a.Body[..Math.Min(160, a.Body.Length)]}")));
            foreach (var model in Models)
                output.WriteLine($"{model}: acknowledged {acknowledged[model]}, counted {counted[model]}, lost {acknowledged[model] - counted[model]}, longest write gap {writers.LongestGap(model).TotalSeconds:0.00} s");
            output.WriteLine($"all: acknowledged {acknowledged.Values.Sum()}, counted {counted.Values.Sum()}, longest write gap {writers.LongestGap().TotalSeconds:0.00} s; via the SDK gpt-4 counts {viaSdk.Count}");

            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)a.Status}: {a.Body}"));
            Assert.All(Models, model => Assert.True(acknowledged[model] > 0, $"nothing of {model} was acknowledged"));
            Assert.All(Models, model => Assert.Equal(acknowledged[model], counted[model]));
            Assert.Equal(acknowledged["gpt-4"], viaSdk.Count);
            Assert.All(Models, model => Assert.True(writers.LongestGap(model) < TimeSpan.FromSeconds(15), $"{model}'s writes stopped for {writers.LongestGap(model).TotalSeconds:0.0} s"));
            await host.StopAsync();
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    private string? _lastCountError;

    private static async Task<int> ActiveSilosAsync(string silo)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            return (await http.GetFromJsonAsync<JsonElement>($"{silo}/v1/cluster")).GetProperty("silos").GetArrayLength();
        }
        catch (HttpRequestException)
        {
            return -1;
        }
    }

    /// <summary>A silo's count of a model over the last hour, or -1 while it cannot answer (its grain is moving).</summary>
    private async Task<long> CountOrNoneAsync(string silo, string model)
    {
        try
        {
            return await RecordWriters.CountAsync(silo, model);
        }
        catch (HttpRequestException exception)
        {
            _lastCountError = exception.Message;
            return -1;
        }
    }
}
