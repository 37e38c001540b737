using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Cluster;

public sealed class DurabilityTests(RedisServer redis)
{
    // 1 s: part of the records come back from a checkpoint, the rest from the log.
    // 600 s: no checkpoint is ever written, every record comes back from the log.
    [Theory]
    [InlineData(1)]
    [InlineData(600)]
    public async Task Killing_the_silo_that_holds_a_model_loses_no_acknowledged_record(int checkpointSeconds)
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 2, checkpointInterval: TimeSpan.FromSeconds(checkpointSeconds));
        var client = cluster.Client;
        var grain = cluster.Cluster.Client.GetGrain<IModelStatsGrain>("claude");

        // Some records reach a checkpoint, the rest live only in the recent-record log.
        var checkpointed = Enumerable.Range(0, 400).Select(i => Records.Valid("claude", 0.5 + i / 1000.0)).ToArray();
        Assert.Equal(400, (await client.RecordBatchAsync(checkpointed)).Recorded);
        if (checkpointSeconds == 1) await WaitForCheckpointAsync(grain);
        var acknowledged = 400;
        var tasks = Enumerable.Range(0, 300).Select(_ => client.RecordAsync(Records.Valid("claude", 2))).ToArray();
        acknowledged += (await Task.WhenAll(tasks)).Sum(r => r.Recorded);
        acknowledged += (await client.RecordBatchAsync(Enumerable.Range(0, 1000).Select(_ => Records.Valid("claude", 3)).ToArray())).Recorded;
        Assert.Equal(1700, acknowledged);

        var host = (await grain.GetInfoAsync()).Silo;
        var victim = cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == host);
        await cluster.Cluster.KillSiloAsync(victim);

        var summary = await KyrosTestCluster.UntilServedAsync(() => client.GetSummaryAsync("claude", TimeSpan.FromHours(1)), TimeSpan.FromSeconds(60));
        var info = await grain.GetInfoAsync();
        Assert.NotEqual(host, info.Silo);
        if (checkpointSeconds == 600)
        {
            Assert.Null(info.LastCheckpoint);
            Assert.Equal(acknowledged, info.ReplayedOnActivation);
        }
        else
        {
            // At least the first 400 came back from the checkpoint, not the log.
            Assert.InRange(info.ReplayedOnActivation, 0, acknowledged - 400);
        }
        Assert.Equal(acknowledged, summary.Count);
        Assert.Equal(3, summary.Latency.Max!.Value, 9);
    }

    private static async Task WaitForCheckpointAsync(IModelStatsGrain grain)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await grain.GetInfoAsync()).LastCheckpoint is null)
        {
            Assert.True(DateTime.UtcNow < deadline, "no checkpoint within 30 s");
            await Task.Delay(100);
        }
    }
}
