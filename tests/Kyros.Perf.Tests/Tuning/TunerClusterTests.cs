using Kyros.Perf.Resources;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Kyros.Perf.Tuning;
using Microsoft.Extensions.DependencyInjection;

namespace Kyros.Perf.Tests.Tuning;

/// <summary>The tuner on a real two-silo cluster (Redis state, SQLite history): from degrading records to routing that honours the change.</summary>
public sealed class TunerClusterTests(RedisServer redis)
{
    /// <summary>Per-minute records over the last half hour: the creeping model's latency climbs from 1 s to 2.45 s, the steady one stays at 3 s.</summary>
    private static ModelPerformanceRecord[] History(string model, Func<int, double> latencyAt)
    {
        var now = DateTimeOffset.UtcNow;
        return [.. Enumerable.Range(1, 30).SelectMany(ago => Enumerable.Range(0, 10).Select(i =>
            Records.Valid(model, latencyAt(ago) * (0.95 + 0.01 * i), now.AddMinutes(-ago).AddSeconds(i))))];
    }

    [Fact]
    public async Task Creeping_latency_is_found_applied_as_a_penalty_that_routing_honours_and_the_tuner_survives_its_silo()
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis);
        var client = cluster.Client;
        await client.RecordBatchAsync(History("gemini-pro", ago => 1.0 + (30 - ago) * 0.05));
        await client.RecordBatchAsync(History("claude", _ => 3.0));
        var request = new RoutingRequest(new RequestFeatures { EstimatedTokens = 100 }, ["gemini-pro", "claude"], RoutingStrategy.LowestLatency);

        // Recommend only: nothing applied, nothing honoured.
        await client.UpdateTuningConfigurationAsync(new TuningConfigurationUpdate { AutoApply = false, LearningRate = 0.5 });
        var first = await client.RunTuningCycleAsync();
        var proposed = Assert.Single(first.Recommendations, r => r.Target == "model:gemini-pro");
        Assert.Equal(("shift_traffic", TuningStatus.Proposed), (proposed.Action, proposed.Status));
        Assert.Contains("median latency climbed", proposed.Reasoning);
        Assert.Empty((await client.GetTuningStatusAsync()).Overrides.Penalties);
        Assert.Equal("gemini-pro", (await client.RouteAsync(request)).SelectedModel);

        // Applied by the gates on the next cycle: the same finding keeps the waiting proposal (no new one), and every silo's router honours it.
        await client.UpdateTuningConfigurationAsync(new TuningConfigurationUpdate { AutoApply = true });
        var second = await client.RunTuningCycleAsync();
        var applied = Assert.Single(second.Recommendations, r => r.Target == "model:gemini-pro");
        Assert.Equal((proposed.Id, TuningStatus.Applied, "tuner", 0.5), (applied.Id, applied.Status, applied.AppliedBy, applied.RecommendedValue));
        Assert.Single(await client.GetTuningRecommendationsAsync(new TuningQuery(Target: "model:gemini-pro")));
        foreach (var silo in cluster.Cluster.Silos.Cast<Orleans.TestingHost.InProcessSiloHandle>())
        {
            var snapshot = silo.ServiceProvider.GetRequiredService<RoutingSnapshot>();
            await Eventually.UntilAsync(() => Task.FromResult(snapshot.Tuning.Penalties.GetValueOrDefault("gemini-pro")), p => p == 0.5);
        }
        Assert.Equal("claude", (await client.RouteAsync(request)).SelectedModel);

        // The change and the alerts stream's notices are kept; an operator can roll it back, and routing follows.
        var history = await client.GetTuningHistoryAsync(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Contains(history, h => h.Recommendation.Id == applied.Id && h.Recommendation.Status == TuningStatus.Applied);
        var notices = await cluster.Cluster.Client.GetGrain<IAlertLogGrain>(0).QueryAsync(new AlertQuery(Node: "cluster"));
        Assert.Contains(notices.Events, e => e.AlertId == $"tuning:{applied.Id}" && e.Level == AlertLevel.Info);
        await Assert.ThrowsAsync<RecommendationStateException>(() => client.ApplyAsync(applied.Id));
        await Assert.ThrowsAsync<RecommendationNotFoundException>(() => client.RejectAsync("tun-999999"));

        // The tuner's silo dies: the next routing refresh activates it on the survivor, with its configuration and changes.
        var host = (await client.GetTuningStatusAsync()).Silo;
        await cluster.Cluster.KillSiloAsync(cluster.Cluster.Silos.Single(s => s.SiloAddress.ToString() == host));
        var moved = await KyrosTestCluster.UntilServedAsync(() => client.GetTuningStatusAsync(), TimeSpan.FromSeconds(60));
        Assert.NotEqual(host, moved.Silo);
        Assert.Equal(0.5, moved.Configuration.LearningRate);
        Assert.Equal(0.5, moved.Overrides.Penalties["gemini-pro"]);
        Assert.Contains(moved.UnderEvaluation, r => r.Id == applied.Id);
        Assert.Equal(2, moved.Cycles);

        var rolledBack = await client.RollbackAsync(applied.Id);
        Assert.Equal(TuningStatus.RolledBack, rolledBack.Status);
        var survivor = cluster.Cluster.Silos.Cast<Orleans.TestingHost.InProcessSiloHandle>().Single().ServiceProvider.GetRequiredService<RoutingSnapshot>();
        await Eventually.UntilAsync(() => Task.FromResult(survivor.Tuning.Penalties.Count), n => n == 0);
        Assert.Equal("gemini-pro", (await client.RouteAsync(request)).SelectedModel);
    }

    [Fact]
    public async Task A_model_rule_that_flaps_is_raised_by_the_tuner_on_the_rules_every_silo_follows_and_rolled_back_on_request()
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis);
        var client = cluster.Client;
        var now = DateTimeOffset.UtcNow;
        // Eight error-rate warnings on two models, each over within a minute: noise in the alert log.
        await cluster.Cluster.Client.GetGrain<IAlertLogGrain>(0).AppendAsync(
            [.. Enumerable.Range(0, 8).SelectMany(i => TuningRuleTests.ModelFlap(i % 2 == 0 ? "gpt-4" : "claude", "error_rate", i, TimeSpan.FromMinutes(1), now))]);
        await client.UpdateTuningConfigurationAsync(new TuningConfigurationUpdate { AutoApply = true });
        var cycle = await client.RunTuningCycleAsync();
        var applied = Assert.Single(cycle.Recommendations, r => r.Target == "model_rule:error_rate");
        Assert.Equal((TuningStatus.Applied, 11.0), (applied.Status, applied.RecommendedValue));
        foreach (var silo in cluster.Cluster.Silos.Cast<Orleans.TestingHost.InProcessSiloHandle>())
        {
            var book = silo.ServiceProvider.GetRequiredService<Kyros.Perf.Alerts.ModelAlertRuleBook>();
            await Eventually.UntilAsync(() => Task.FromResult(book.Current.Rules.ErrorRate.Warning), w => w == 11.0);
        }
        await client.RollbackAsync(applied.Id);
        Assert.Equal(10.0, (await cluster.Cluster.Client.GetGrain<Kyros.Perf.Alerts.IModelAlertRulesGrain>(0).GetAsync()).Rules.ErrorRate.Warning);
    }
}
