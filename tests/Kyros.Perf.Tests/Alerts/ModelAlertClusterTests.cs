using System.Threading.Channels;
using Kyros.Perf.Alerts;
using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Keys;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Alerts;

/// <summary>Model and key alerts in a TestingHost cluster on Redis: raised under real gateway traffic, logged, streamed, resolved.</summary>
public sealed class ModelAlertClusterTests(RedisServer redis)
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_failing_model_raises_a_critical_alert_in_the_log_and_on_the_stream_that_resolves_once_it_heals_and_a_steady_model_never_fires()
    {
        // The product's clock is fake so the window can be moved past the failures; the simulated models then answer at once.
        var start = DateTimeOffset.UtcNow;
        var time = new FakeTimeProvider(new DateTimeOffset(start.Year, start.Month, start.Day, start.Hour, start.Minute, 5, TimeSpan.Zero));
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 1, time: time, settings: new Dictionary<string, string?>
        {
            ["Kyros:Alerts:ModelEvaluationInterval"] = "00:00:00.200",
            ["Kyros:Alerts:ErrorRateWindow"] = "00:01:00",
            ["Kyros:Gateway:SimulationTimeScale"] = "0",
            ["Kyros:Gateway:MaxRetries"] = "0",
        });
        var client = cluster.Client;
        var received = Channel.CreateUnbounded<AlertEvent>();
        await using var subscription = await client.SubscribeAlertsAsync(alert => received.Writer.WriteAsync(alert).AsTask());
        var failing = $"failing-{Guid.NewGuid():N}"[..16];
        var steady = $"steady-{Guid.NewGuid():N}"[..15];
        var added = await client.AddModelAsync(new ModelDescriptor { Id = failing, Simulation = new SimulationProfile { ErrorRate = 0 } });
        await client.AddModelAsync(new ModelDescriptor { Id = steady, Simulation = new SimulationProfile { ErrorRate = 0 } });

        async Task TrafficAsync(int calls)
        {
            for (var i = 0; i < calls; i++)
                foreach (var model in new[] { failing, steady })
                {
                    try
                    {
                        await client.GenerateAsync(new GenerateRequest { Prompt = "hello", Model = model, MaxTokens = 5 });
                    }
                    catch (Exception e) when (e is not OrleansException)
                    {
                        // The failing model's simulated errors reach the caller; they are what is measured.
                    }
                }
        }

        await TrafficAsync(25);
        await client.UpdateModelAsync(new ModelDescriptor { Id = failing, Simulation = new SimulationProfile { ErrorRate = 1 } }, added.Revision);
        await TrafficAsync(40);

        var raised = await Eventually.UntilAsync(() => client.GetAlertsAsync(new AlertQuery(Node: failing)),
            page => page.Events.Any(e => e.Series == ModelAlertMonitor.ErrorRate && e.Level == AlertLevel.Critical), Within);
        var critical = raised.Events.First(e => e.Series == ModelAlertMonitor.ErrorRate && e.Level == AlertLevel.Critical);
        Assert.Equal(AlertSubjects.Model, critical.Subject);
        Assert.Contains($"Model {failing}", critical.Message);
        Assert.Contains(raised.Active, a => a.AlertId == critical.AlertId);
        using (var timeout = new CancellationTokenSource(Within))
            while (await received.Reader.ReadAsync(timeout.Token) is var e && !(e.Node == failing && e.AlertId == critical.AlertId && e.Level == AlertLevel.Critical)) { }

        // Healed, and a minute later the failures are out of the window: healthy calls resolve the alert.
        var current = (await client.GetModelAsync(failing))!;
        await client.UpdateModelAsync(new ModelDescriptor { Id = failing, Simulation = new SimulationProfile { ErrorRate = 0 } }, current.Revision);
        time.Advance(TimeSpan.FromMinutes(1));
        await TrafficAsync(25);
        var healed = await Eventually.UntilAsync(() => client.GetAlertsAsync(new AlertQuery(Node: failing)),
            page => page.Events.Any(e => e.AlertId == critical.AlertId && e.Kind == AlertEventKind.Resolved), Within);
        Assert.DoesNotContain(healed.Active, a => a.AlertId == critical.AlertId);

        Assert.Empty((await client.GetAlertsAsync(new AlertQuery(Node: steady))).Events);
    }

    [Fact]
    public async Task Model_rules_set_through_the_SDK_reach_every_silo_and_a_key_past_80_percent_of_its_budget_has_a_warning_in_the_alert_log()
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 2);
        var client = cluster.Client;

        // Model rules through the SDK: checked naming the field, then held by every silo's copy.
        Assert.Equal("critical", Assert.Throws<ArgumentException>(() => client.SetModelAlertRuleAsync(ModelAlertRules.ErrorRateRule, new ModelRuleLevels(20, 10)).GetAwaiter().GetResult()).ParamName);
        var set = await client.SetModelAlertRuleAsync(ModelAlertRules.ErrorRateRule, new ModelRuleLevels(5, 15, 30));
        foreach (var silo in cluster.Cluster.Silos)
        {
            var book = ((Orleans.TestingHost.InProcessSiloHandle)silo).ServiceProvider.GetRequiredService<ModelAlertRuleBook>();
            await Eventually.UntilAsync(() => Task.FromResult(book.Current), c => c.Version == set.Version, TimeSpan.FromSeconds(10));
            Assert.Equal(new ModelRuleLevels(5, 15, 30), book.Current.Rules.ErrorRate);
        }
        var name = $"budget-{Guid.NewGuid():N}"[..15];
        var created = await client.CreateKeyAsync(new ApiKeySettings { Name = name, Scopes = ["write"], BudgetUsd = 10, BudgetPeriod = BudgetPeriods.Day });
        var account = cluster.Cluster.Client.GetGrain<IKeyAccountGrain>(created.Key.Id);
        var hold = await account.ReserveAsync("gpt-4", 8.5, 10);
        Assert.True(hold.Admitted);
        await account.SettleAsync(hold.HoldId, "gpt-4", 8.5, 5, 5);

        var page = await Eventually.UntilAsync(() => client.GetAlertsAsync(new AlertQuery(Node: name)), p => p.Events.Count > 0, Within);
        var warning = Assert.Single(page.Events);
        Assert.Equal((AlertSubjects.Key, KeyAccount.BudgetSeries, AlertLevel.Warning, 85.0), (warning.Subject, warning.Metric, warning.Level, warning.Value));
        Assert.Single(page.Active);
    }
}
