using Kyros.Perf.Client;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Kyros.Perf.Tuning;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Tuning;

/// <summary>
/// The tuner on its own timer, on a two-silo cluster whose product clock is a <see cref="FakeTimeProvider"/>: the timer
/// ticks in real time (every 50 ms) and runs a cycle only when the fake clock says one is due.
/// </summary>
public sealed class TunerScheduleTests(RedisServer redis)
{
    /// <summary>Ten records a minute over the last half hour before <paramref name="now"/>.</summary>
    private static ModelPerformanceRecord[] History(DateTimeOffset now, string model, Func<int, double> latencyAt) =>
        [.. Enumerable.Range(1, 30).SelectMany(ago => Enumerable.Range(0, 10).Select(i =>
            Records.Valid(model, latencyAt(ago) * (0.95 + 0.01 * i), now.AddMinutes(-ago).AddSeconds(i))))];

    /// <summary>Moves the clock to <paramref name="at"/> and waits for the tuner's timer to see it.</summary>
    private static Task<TuningStatusReport> AdvanceToAsync(FakeTimeProvider time, KyrosPerfClient client, DateTimeOffset at, long cycles)
    {
        time.Advance(at - time.GetUtcNow());
        return Eventually.UntilAsync(() => client.GetTuningStatusAsync(), s => s.Cycles >= cycles);
    }

    [Fact]
    public async Task Cycles_run_when_due_carry_on_after_the_tuners_silo_dies_and_a_change_that_made_latency_worse_is_rolled_back_and_held()
    {
        // Ten minutes behind the real clock, so that records stamped on it are never ahead of the SDK's clock.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow.AddMinutes(-10));
        await using var cluster = await KyrosTestCluster.StartAsync(redis, time: time, settings: new Dictionary<string, string?>
        {
            ["Kyros:Tuning:TuningIntervalMinutes"] = "1",
            ["Kyros:Tuning:EvaluationMinutes"] = "2",
            ["Kyros:Tuning:LearningRate"] = "0.5",
            ["Kyros:Tuning:TickInterval"] = "00:00:00.050",
        });
        var client = cluster.Client;
        // gemini-pro's latency creeps from 1 s to 2.45 s; claude holds at 3 s.
        await client.RecordBatchAsync(History(time.GetUtcNow(), "gemini-pro", ago => 1.0 + (30 - ago) * 0.05));
        await client.RecordBatchAsync(History(time.GetUtcNow(), "claude", _ => 3.0));

        var start = await client.GetTuningStatusAsync();
        Assert.Equal(0, start.Cycles);
        var due = start.NextCycle!.Value;

        // Just before its time, a cycle with the same inputs would run at once: none does. At its time, one does, and the gates apply the penalty.
        time.Advance(due - TimeSpan.FromSeconds(1) - time.GetUtcNow());
        var triggered = await client.RunTuningCycleAsync(); // the schedule starts again from a cycle run by hand
        Assert.Equal(due - TimeSpan.FromSeconds(1), triggered.StartedAt);
        var nextDue = triggered.StartedAt + TimeSpan.FromMinutes(1);
        Assert.Equal(nextDue, (await client.GetTuningStatusAsync()).NextCycle);
        var first = await AdvanceToAsync(time, client, nextDue, cycles: 2);
        Assert.Equal((2, nextDue), (first.Cycles, first.LastCycle));
        var applied = Assert.Single(triggered.Recommendations, r => r.Target == "model:gemini-pro");
        Assert.Equal((TuningStatus.Applied, "tuner"), (applied.Status, applied.AppliedBy));
        Assert.Equal(0.5, first.Overrides.Penalties["gemini-pro"]);
        Assert.Contains(first.UnderEvaluation, r => r.Id == applied.Id); // one minute of its two of evaluation

        // The tuner's silo dies. The next call activates it on the survivor, whose timer carries the schedule on.
        await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == first.Silo));
        var moved = await KyrosTestCluster.UntilServedAsync(() => client.GetTuningStatusAsync(), TimeSpan.FromSeconds(60));
        Assert.NotEqual(first.Silo, moved.Silo);
        Assert.Equal(2, moved.Cycles);

        // Traffic moved to claude, the slower model: over the evaluation the cluster's median latency rises by a third.
        async Task ServeMostlyFromClaudeUntil(DateTimeOffset end)
        {
            for (var at = time.GetUtcNow(); at < end; at = at.AddSeconds(10))
            {
                time.Advance(at - time.GetUtcNow());
                await client.RecordBatchAsync([.. Enumerable.Range(0, 20).Select(_ => Records.Valid("claude", 3.3, at)), Records.Valid("gemini-pro", 2.5, at)]);
            }
        }
        await ServeMostlyFromClaudeUntil(nextDue + TimeSpan.FromSeconds(55));
        var judged = await AdvanceToAsync(time, client, nextDue + TimeSpan.FromMinutes(1), cycles: 3);
        Assert.Equal((3, nextDue + TimeSpan.FromMinutes(1)), (judged.Cycles, judged.LastCycle));
        var rolledBack = (await client.GetTuningRecommendationsAsync(new TuningQuery(Target: "model:gemini-pro"))).Single(r => r.Id == applied.Id);
        Assert.Equal(TuningStatus.RolledBack, rolledBack.Status);
        Assert.StartsWith("cluster_latency_p50 went from", rolledBack.Outcome);
        Assert.True(rolledBack.Observed > rolledBack.Baseline * 1.2, $"observed {rolledBack.Observed}, baseline {rolledBack.Baseline}");
        Assert.False(judged.Overrides.Penalties.ContainsKey("gemini-pro"));
        Assert.DoesNotContain(judged.UnderEvaluation, r => r.Id == applied.Id);

        // The same evidence proposes the penalty again, but the gates hold it: proposed for an operator, not applied.
        var again = await client.GetTuningRecommendationsAsync(new TuningQuery(Target: "model:gemini-pro", Since: rolledBack.DecidedAt));
        Assert.NotEmpty(again);
        Assert.All(again, r => Assert.Equal(TuningStatus.Proposed, r.Status));
        var history = await client.GetTuningHistoryAsync(time.GetUtcNow().AddHours(-1), time.GetUtcNow());
        Assert.Equal([TuningStatus.Proposed, TuningStatus.Applied, TuningStatus.RolledBack],
            history.Where(h => h.Recommendation.Id == applied.Id).Select(h => h.Recommendation.Status));
    }
}
