using Kyros.Perf.Client;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kyros.Perf.Tests.Processes;

public sealed class SiloProcessTests(RedisServer redis)
{
    [Fact]
    public async Task Kill_9_of_the_silo_holding_a_model_loses_no_acknowledged_record()
    {
        var serviceId = $"kill9-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-kill9-").FullName;
        await using var first = await SiloProcess.StartAsync(redis.ConnectionString, serviceId, "silo-a", data);
        await using var second = await SiloProcess.StartAsync(redis.ConnectionString, serviceId, "silo-b", data);

        using var host = await ClientHost.StartAsync(redis.ConnectionString, serviceId);
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        var grains = host.Services.GetRequiredService<IClusterClient>();

        var acknowledged = (await client.RecordBatchAsync(Enumerable.Range(0, 1000).Select(i => Records.Valid("gpt-4", 1 + i / 1000.0)).ToArray())).Recorded;
        acknowledged += (await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => client.RecordAsync(Records.Valid("gpt-4", 4))))).Sum(r => r.Recorded);
        Assert.Equal(1200, acknowledged);

        var holder = (await grains.GetGrain<IModelStatsGrain>("gpt-4").GetInfoAsync()).ProcessId;
        var victim = new[] { first, second }.Single(s => s.ProcessId == holder);
        victim.KillHard();

        var summary = await KyrosTestCluster.UntilServedAsync(() => client.GetSummaryAsync("gpt-4", TimeSpan.FromHours(1)), TimeSpan.FromSeconds(90));
        Assert.Equal(acknowledged, summary.Count);
        Assert.Equal(4, summary.Latency.Max!.Value, 9);
        Assert.NotEqual(holder, (await grains.GetGrain<IModelStatsGrain>("gpt-4").GetInfoAsync()).ProcessId);
        await host.StopAsync();
    }
}
