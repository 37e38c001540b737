using Kyros.Perf.Common;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Cluster;

/// <summary>
/// A model's day in a real cluster, once its minutes older than two hours are folded into hours: every window answers as a
/// ledger that keeps every minute does (the part hour at a window's start comes from history), a late record for a folded
/// minute counts once, and the survivor of a kill answers the same.
/// </summary>
public sealed class LiveTiersClusterTests(RedisServer redis)
{
    private const string Model = "local-llama";

    [Fact]
    public async Task A_day_folded_into_hours_answers_every_window_exactly_through_a_late_record_and_a_kill()
    {
        // The product clock stands still, a little after a minute starts, so that every summary below is taken at one instant.
        var now = new DateTimeOffset(DateTimeOffset.UtcNow.Ticks - DateTimeOffset.UtcNow.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddSeconds(20);
        var time = new FakeTimeProvider(now);
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 2, time: time);
        var client = cluster.Client;
        var grain = cluster.Cluster.Client.GetGrain<IModelStatsGrain>(Model);

        var latencies = Records.LogNormalSeconds(24 * 60 * 4, seed: 31);
        var day = latencies.Select((seconds, i) => Records.Valid(Model, seconds, now - TimeWindow.Max + TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(i * 15)) with
        {
            Instance = i % 2 == 0 ? "east" : "west",
            Success = i % 40 != 0,
            ErrorKind = i % 40 == 0 ? "timeout" : null,
        }).Where(r => r.Timestamp <= now).ToArray();
        var reference = new ModelStatsLedger();
        foreach (var chunk in day.Chunk(2_000)) Assert.Equal(chunk.Length, (await client.RecordBatchAsync(chunk)).Recorded);
        for (var i = 0; i < day.Length; i++) reference.Apply(day[i], i + 1);

        // Two checkpoints (1 s apart): the first hands the minutes to history, the second folds the old ones.
        await Eventually.UntilAsync(grain.GetInfoAsync, info => info.MinuteBuckets <= 121);
        await AssertWindowsMatchAsync(client, reference, now);

        var late = Records.Valid(Model, 77, now.AddHours(-20).AddMinutes(-7)) with { Instance = "east" };
        Assert.Equal(1, (await client.RecordAsync(late)).Recorded);
        Assert.Equal(0, (await client.RecordAsync(late)).Recorded);
        reference.Apply(late, day.Length + 1);
        // Its minute is live again (its row taken from history) until it is flushed and folded once more.
        var minutes = (await grain.GetInfoAsync()).MinuteBuckets;
        await AssertWindowsMatchAsync(client, reference, now);
        await Eventually.UntilAsync(grain.GetInfoAsync, info => info.MinuteBuckets < minutes);
        await AssertWindowsMatchAsync(client, reference, now);

        var host = (await grain.GetInfoAsync()).Silo;
        await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == host));
        await KyrosTestCluster.UntilServedAsync(() => client.GetSummaryAsync(Model, TimeSpan.FromHours(1)), TimeSpan.FromSeconds(60));
        Assert.NotEqual(host, (await grain.GetInfoAsync()).Silo);
        await AssertWindowsMatchAsync(client, reference, now);
    }

    private static async Task AssertWindowsMatchAsync(Kyros.Perf.Client.KyrosPerfClient client, ModelStatsLedger reference, DateTimeOffset now)
    {
        foreach (var window in new[] { TimeSpan.FromMinutes(30), TimeSpan.FromMinutes(150), TimeSpan.FromHours(6), TimeSpan.FromMinutes(20 * 60 + 10), TimeWindow.Max })
        {
            var expected = ModelSummary.Create(Model, TimeWindow.Format(window), TimeWindow.StartAt(now, window), now, reference.Window(now, window));
            var actual = await client.GetSummaryAsync(Model, window);
            Assert.Equal((window, expected.Count, expected.SuccessCount), (window, actual.Count, actual.SuccessCount));
            Assert.Equal((window, expected.Latency.P50, expected.Latency.P99, expected.Latency.Max), (window, actual.Latency.P50, actual.Latency.P99, actual.Latency.Max));
            Assert.Equal(expected.ErrorsByKind, actual.ErrorsByKind);
        }
    }
}
