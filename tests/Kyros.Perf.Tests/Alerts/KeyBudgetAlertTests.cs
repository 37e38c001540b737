using Kyros.Perf.Keys;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Alerts;

/// <summary>A key's budget alert in its account's arithmetic, without a cluster.</summary>
public sealed class KeyBudgetAlertTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static ApiKeySettings Key(double? budget, string period = BudgetPeriods.Day) =>
        new() { Name = "team-a", Scopes = ["write"], BudgetUsd = budget, BudgetPeriod = budget is null ? null : period };

    private static AlertEvent? Spend(KeyAccount account, ApiKeySettings key, double usd, DateTimeOffset at)
    {
        var hold = account.Reserve(key, "m", usd, 10, at);
        Assert.True(hold.Admitted);
        account.Settle(key, hold.HoldId, "m", usd, 5, 5, at);
        return account.CheckBudget(key, at);
    }

    [Fact]
    public void Warning_at_80_percent_critical_at_100_and_resolved_when_the_day_rolls_over()
    {
        var key = Key(10);
        var account = new KeyAccount(new KeyAccountState());
        Assert.Null(Spend(account, key, 7.9, Noon));
        var warning = Spend(account, key, 0.1, Noon)!;
        Assert.Equal((AlertEventKind.Raised, AlertLevel.Warning, AlertSubjects.Key, "team-a", KeyAccount.BudgetSeries), (warning.Kind, warning.Level, warning.Subject, warning.Node, warning.Metric));
        Assert.Equal((80.0, 80.0), (warning.Value, warning.Threshold!.Value));
        Assert.Equal("Key 'team-a' has spent 8 USD of its 10 USD daily budget (80%): warning (threshold 80%).", warning.Message);
        Assert.Null(Spend(account, key, 1, Noon));
        var critical = Spend(account, key, 1, Noon)!;
        Assert.Equal((AlertEventKind.Escalated, AlertLevel.Critical, 100.0), (critical.Kind, critical.Level, critical.Threshold!.Value));
        Assert.Equal(warning.AlertId, critical.AlertId);

        var resolved = account.CheckBudget(key, Noon.AddHours(12))!;
        Assert.Equal((AlertEventKind.Resolved, AlertLevel.None, AlertLevel.Critical), (resolved.Kind, resolved.Level, resolved.PreviousLevel));
        Assert.Equal(warning.AlertId, resolved.AlertId);
        Assert.Equal(3, account.PendingAlerts.Count);
        account.Delivered(3);
        Assert.Empty(account.PendingAlerts);
        Assert.Null(account.CheckBudget(key, Noon.AddHours(12)));
    }

    [Fact]
    public void A_raised_budget_de_escalates_or_resolves_and_the_alert_survives_a_restart()
    {
        var account = new KeyAccount(new KeyAccountState());
        Assert.Equal(AlertLevel.Critical, Spend(account, Key(10), 10, Noon)!.Level);
        var restarted = new KeyAccount(account.Export());
        // 10 of 12 is 83 %: warning; of 20, 50 %: resolved; removing the budget would resolve it too.
        Assert.Equal((AlertEventKind.DeEscalated, AlertLevel.Warning), restarted.CheckBudget(Key(12), Noon) is { } e ? (e.Kind, e.Level) : default);
        Assert.Equal(AlertEventKind.Resolved, restarted.CheckBudget(Key(20), Noon)!.Kind);
        Assert.Null(restarted.CheckBudget(Key(null), Noon));
    }
}
