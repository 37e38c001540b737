using System.Net;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// Three silos on three hosts of a <see cref="NetworkLab"/> (a network namespace each, on one machine), Redis on the
/// lab's bridge: what a network partition does, where loopback would hide it. Skipped where namespaces are not allowed.
/// </summary>
[Collection(FaultsCollection.Name)]
public sealed class PartitionTests(ITestOutputHelper output)
{
    private static readonly string[] Models = ["gpt-4", "claude", "gemini-pro"];

    [Fact]
    public async Task A_silo_cut_off_the_network_is_declared_dead_its_grains_move_nothing_acknowledged_is_lost_and_it_rejoins_when_back()
    {
        var (lab, why) = await NetworkLab.TryCreateAsync(hosts: 3);
        Assert.SkipWhen(lab is null, why ?? "");
        await using var network = lab!;
        await using var redis = RedisServer.On(NetworkLab.BridgeAddress);
        await redis.InitializeAsync();
        Assert.SkipUnless(redis.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own on the lab's bridge.");
        var connection = redis.ConnectionString.Split(',')[0];
        var serviceId = $"part-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-part-").FullName;
        var silos = (await Task.WhenAll(Enumerable.Range(0, 3).Select(i => SiloProcess.StartOnAsync(i, connection, serviceId, $"host-{i}", data)))).ToList();
        try
        {
            using var host = await ClientHost.StartAsync(connection, serviceId);
            var grains = host.Services.GetRequiredService<IClusterClient>();
            var client = host.Services.GetRequiredService<Kyros.Perf.Client.KyrosPerfClient>();
            // The host cut off is the one holding gpt-4's grain; the writers post through the two others.
            await client.RecordAsync(Records.Valid("gpt-4", 0.5, requestId: "part-first"));
            var holder = (await grains.GetGrain<IModelStatsGrain>("gpt-4").GetInfoAsync()).ProcessId;
            var victim = silos.FindIndex(s => s.ProcessId == holder);
            Assert.True(victim >= 0, "gpt-4's grain is on one of the lab's silos");
            var others = Enumerable.Range(0, 3).Where(i => i != victim).Select(i => silos[i].HttpUrl).ToArray();
            var writers = new RecordWriters(others, Models);
            using var stop = new CancellationTokenSource();
            var running = writers.RunAsync(stop.Token);
            await Task.Delay(TimeSpan.FromSeconds(3));

            await network.CutAsync(victim);
            var cut = System.Diagnostics.Stopwatch.StartNew();
            // The others declare it dead and serve its grains.
            await Eventually.UntilAsync(() => SilosAsync(client), s => s.Count == 2, TimeSpan.FromSeconds(60));
            output.WriteLine($"host-{victim} declared dead {cut.Elapsed.TotalSeconds:0.0} s after the cut");
            await Task.Delay(TimeSpan.FromSeconds(8));
            await stop.CancelAsync();
            await running;

            var answers = writers.Answers;
            foreach (var group in answers.GroupBy(a => a.Status))
                output.WriteLine($"{group.Key}: {group.Count()}, slowest {group.Max(a => a.Took).TotalSeconds:0.00} s; {group.First().Body}");
            output.WriteLine($"acknowledged {writers.Acknowledged}; longest gap {writers.LongestGap().TotalSeconds:0.00} s, of gpt-4 {writers.LongestGap("gpt-4").TotalSeconds:0.00} s");
            Assert.All(answers, a => Assert.True(a.Status is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{(int)a.Status}: {a.Body}"));
            // A partition is slower to tell from a death than a kill (probes time out rather than being refused): no 5 s bound here.
            Assert.True(writers.LongestGap("gpt-4") < TimeSpan.FromSeconds(20), $"gpt-4's writes stopped for {writers.LongestGap("gpt-4").TotalSeconds:0.0} s");
            foreach (var model in Models)
                Assert.Equal(writers.AcknowledgedByModel.GetValueOrDefault(model) + (model == "gpt-4" ? 1 : 0), await RecordWriters.CountAsync(others[0], model));

            // Back on the network, the dead silo finds it was declared dead and stops; started again, it rejoins.
            await network.HealAsync(victim);
            var back = System.Diagnostics.Stopwatch.StartNew();
            var left = await silos[victim].ExitedWithinAsync(TimeSpan.FromSeconds(20));
            output.WriteLine(left ? $"host-{victim} stopped by itself {back.Elapsed.TotalSeconds:0.0} s after it was back" : $"host-{victim} had not stopped by itself within 20 s");
            if (!left) await silos[victim].StopGracefullyAsync(TimeSpan.FromSeconds(20));
            await silos[victim].DisposeAsync();
            silos[victim] = await SiloProcess.StartOnAsync(victim, connection, serviceId, $"host-{victim}", data);
            await Eventually.UntilAsync(() => SilosAsync(client), s => s.Count == 3, TimeSpan.FromSeconds(60));
            Assert.Equal(writers.AcknowledgedByModel["gpt-4"] + 1, await RecordWriters.CountAsync(silos[victim].HttpUrl, "gpt-4"));
            await host.StopAsync();
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    /// <summary>The active silos; none while the cluster has not yet decided what the cut-off silo's calls mean (they time out).</summary>
    private static async Task<IReadOnlyList<string>> SilosAsync(Kyros.Perf.Client.KyrosPerfClient client)
    {
        try
        {
            return await client.GetSilosAsync();
        }
        catch (Kyros.Perf.Common.KyrosUnavailableException)
        {
            return [];
        }
    }
}
