using System.Diagnostics;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Durability;

/// <summary>Redis <c>WAIT</c> after an acknowledged write, against a real Redis without replicas and a real primary with one.</summary>
public sealed class ReplicaAcksTests(RedisServer redis)
{
    private static ReplicaAcks Acks(int replicas, TimeSpan? timeout = null) =>
        new(Options.Create(new RedisDurabilityOptions { ReplicaAcks = replicas, ReplicaAckTimeout = timeout ?? TimeSpan.FromSeconds(1) }));

    [Fact]
    public void A_replica_wait_not_shorter_than_the_store_timeout_stops_start_up_naming_both_settings()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kyros:Redis"] = "127.0.0.1:26379,serviceName=kyros",
            ["Kyros:Redis:ReplicaAcks"] = "1",
            ["Kyros:Redis:ReplicaAckTimeout"] = "00:00:02",
            ["Kyros:StoreTimeout"] = "00:00:02",
        }).Build();
        var error = Assert.Throws<OptionsValidationException>(() => Kyros.Perf.Silo.KyrosSiloHost.ReadOptions(configuration));
        Assert.Contains(error.Failures, f => f.Contains("Kyros:Redis:ReplicaAckTimeout") && f.Contains("Kyros:StoreTimeout"));
    }

    [Fact]
    public async Task Zero_replicas_asks_nothing_of_redis()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.True(Acks(0).WaitAsync(connection.GetDatabase()).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Without_the_replicas_asked_for_a_write_is_not_acknowledged_and_the_caller_gets_a_fault_that_passes_after_the_timeout()
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var log = new RedisRecentRecordLog(connection, Options.Create(new RecentRecordLogOptions { KeyPrefix = $"t{Guid.NewGuid():N}" }),
            Acks(1, TimeSpan.FromMilliseconds(200)));
        var record = Records.Valid();

        var waited = Stopwatch.StartNew();
        var fault = await Assert.ThrowsAsync<KyrosUnavailableException>(async () => await log.AppendAsync("gpt-4", [record]));
        Assert.Contains("0 of the 1 replicas", fault.Message);
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        // The write is on the primary all the same: the caller's retry with the same request id is a duplicate.
        Assert.True(await log.ContainsAsync("gpt-4", record.RequestId));
    }

    [Fact]
    public async Task With_a_replica_concurrent_writes_are_acknowledged_once_it_holds_them()
    {
        await using var set = await RedisReplicaSet.StartAsync(replicas: 1, sentinels: 1);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(set.ConnectionString);
        var log = new RedisRecentRecordLog(connection, Options.Create(new RecentRecordLogOptions { KeyPrefix = $"t{Guid.NewGuid():N}" }), Acks(1));

        // Callers that come while a WAIT is out share the next one: all of them are acknowledged.
        var records = Enumerable.Range(0, 200).Select(_ => Records.Valid()).ToArray();
        var positions = await Task.WhenAll(records.Select(r => log.AppendAsync("gpt-4", [r]).AsTask()));
        Assert.All(positions, p => Assert.True(p[0] > 0));

        // And the replica holds each one: read from it directly.
        var replica = await set.ReplicaPortsAsync();
        await using var direct = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{replica[0]}");
        var held = await direct.GetDatabase().StreamLengthAsync(Assert.Single(await KeysAsync(direct, replica[0], "*:log")), CommandFlags.DemandReplica);
        Assert.Equal(records.Length, held);
    }

    private static async Task<RedisKey[]> KeysAsync(IConnectionMultiplexer connection, int port, string pattern)
    {
        var keys = new List<RedisKey>();
        await foreach (var key in connection.GetServer("127.0.0.1", port).KeysAsync(pattern: pattern)) keys.Add(key);
        return [.. keys];
    }
}
