using Kyros.Perf.Keys;

namespace Kyros.Perf.Tests.Auth;

/// <summary>A key account's arithmetic without a cluster: holds, budgets, periods, requests and tokens a minute.</summary>
public sealed class KeyAccountTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static ApiKeySettings Key(double? budget = null, string? period = null, int? rpm = null, long? tpm = null) =>
        new() { Name = "team-a", Scopes = ["write"], BudgetUsd = budget, BudgetPeriod = budget is null ? null : period ?? BudgetPeriods.Month, Rpm = rpm, Tpm = tpm };

    [Fact]
    public void Holds_count_against_the_budget_until_settled_and_the_budget_is_never_passed()
    {
        var key = Key(budget: 0.05, period: BudgetPeriods.Day);
        var account = new KeyAccount(new KeyAccountState());
        var holds = new List<long>();
        // Worst case 0.012 each: four fit in 0.05 (0.048), a fifth does not while they are held.
        for (var i = 0; i < 4; i++)
        {
            var admitted = account.Reserve(key, "m", 0.012, 100, Noon);
            Assert.True(admitted.Admitted);
            holds.Add(admitted.HoldId);
        }
        var refused = account.Reserve(key, "m", 0.012, 100, Noon);
        Assert.Equal(KeyRefusals.BudgetExceeded, refused.Code);
        Assert.Contains("held by calls in flight", refused.Reason);
        // Until the day ends (UTC midnight, 12 h away).
        Assert.Equal(TimeSpan.FromHours(12), refused.RetryAfter);

        // Settling below the worst case frees the difference.
        foreach (var hold in holds) account.Settle(key, hold, "m", 0.005, 40, 60, Noon);
        var usage = account.Usage(key, Noon);
        Assert.Equal(0.02, usage.SpendUsd, 9);
        Assert.Equal(0, usage.ReservedUsd);
        Assert.Equal(4, usage.Requests);
        Assert.Equal(160, usage.InputTokens);
        Assert.Equal(240, usage.OutputTokens);
        Assert.Equal(0.03, usage.RemainingUsd!.Value, 9);
        Assert.Equal(1, usage.Refused);
        Assert.Equal([new KeyModelUsage("m", 0.02, 4, 160, 240)], usage.Models);

        // Exactly the budget is allowed; then the budget is reached and even a free call is refused.
        var last = account.Reserve(key, "m", 0.03, 0, Noon);
        Assert.True(last.Admitted);
        account.Settle(key, last.HoldId, "m", 0.03, 1, 1, Noon);
        Assert.Equal(KeyRefusals.BudgetExceeded, account.Reserve(key, "free", 0, 0, Noon).Code);
        Assert.Contains("has spent", account.Reserve(key, "free", 0, 0, Noon).Reason);
    }

    [Fact]
    public void A_period_rolls_over_at_its_end_in_utc_and_a_total_budget_never_does()
    {
        var daily = Key(budget: 1, period: BudgetPeriods.Day);
        var account = new KeyAccount(new KeyAccountState());
        var hold = account.Reserve(daily, "m", 1, 0, Noon).HoldId;
        account.Settle(daily, hold, "m", 1, 0, 0, Noon);
        var late = new DateTimeOffset(2026, 12, 7, 23, 59, 59, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(1), account.Reserve(daily, "m", 0.1, 0, late).RetryAfter);
        var tomorrow = late.AddSeconds(1);
        Assert.True(account.Reserve(daily, "m", 0.1, 0, tomorrow).Admitted);
        var usage = account.Usage(daily, tomorrow);
        Assert.Equal(tomorrow, usage.PeriodStart);
        Assert.Equal(tomorrow.AddDays(1), usage.PeriodEnd);
        Assert.Equal(0, usage.SpendUsd);
        Assert.True(account.Changed);

        var monthly = Key(budget: 1);
        Assert.Equal((new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero)),
            KeyAccount.PeriodOf(monthly, Noon.ToOffset(TimeSpan.FromHours(-8))));

        var total = Key(budget: 1, period: BudgetPeriods.Total);
        var forever = new KeyAccount(new KeyAccountState());
        forever.Settle(total, forever.Reserve(total, "m", 1, 0, Noon).HoldId, "m", 1, 0, 0, Noon);
        var refused = forever.Reserve(total, "m", 0.1, 0, Noon.AddYears(3));
        Assert.Equal(KeyRefusals.BudgetExceeded, refused.Code);
        Assert.Null(refused.RetryAfter);
    }

    [Fact]
    public void Requests_and_tokens_a_minute_hold_over_a_sliding_minute_and_tokens_settle_to_what_was_used()
    {
        var key = Key(rpm: 3, tpm: 1_000);
        var account = new KeyAccount(new KeyAccountState());
        var first = account.Reserve(key, "m", 0, 400, Noon);
        var second = account.Reserve(key, "m", 0, 400, Noon.AddSeconds(10));
        // 800 of 1 000 held: 400 more would pass the tokens a minute; the wait is until the first leaves the minute.
        var tooMany = account.Reserve(key, "m", 0, 400, Noon.AddSeconds(20));
        Assert.Equal(KeyRefusals.RateLimitExceeded, tooMany.Code);
        Assert.Equal(TimeSpan.FromSeconds(40), tooMany.RetryAfter);
        // The first used only 100: now 500 are counted and 400 more fit.
        account.Settle(key, first.HoldId, "m", 0, 50, 50, Noon.AddSeconds(20));
        Assert.True(account.Reserve(key, "m", 0, 400, Noon.AddSeconds(20)).Admitted);
        // Three requests in the minute: the fourth waits until the first is a minute old.
        var fourth = account.Reserve(key, "m", 0, 1, Noon.AddSeconds(30));
        Assert.Equal(KeyRefusals.RateLimitExceeded, fourth.Code);
        Assert.Contains("3 requests a minute", fourth.Reason);
        Assert.Equal(TimeSpan.FromSeconds(30), fourth.RetryAfter);
        Assert.True(account.Reserve(key, "m", 0, 1, Noon.AddSeconds(60)).Admitted);
        Assert.True(second.Admitted);

        // A call larger than the whole tokens a minute is admitted alone, into an empty minute.
        var big = new KeyAccount(new KeyAccountState());
        Assert.True(big.Reserve(key, "m", 0, 5_000, Noon).Admitted);
        Assert.False(big.Reserve(key, "m", 0, 1, Noon).Admitted);
    }

    [Fact]
    public void A_hold_never_settled_counts_its_worst_case_and_bad_figures_are_refused_naming_them()
    {
        var key = Key(budget: 1);
        var account = new KeyAccount(new KeyAccountState());
        Assert.True(account.Reserve(key, "m", 0.3, 10, Noon).Admitted);
        var later = Noon + KeyAccount.HoldLife + TimeSpan.FromSeconds(1);
        var usage = account.Usage(key, later);
        Assert.Equal(0.3, usage.SpendUsd, 9);
        Assert.Equal(0, usage.InFlight);

        Assert.Equal("worstCostUsd", Assert.Throws<ArgumentException>(() => account.Reserve(key, "m", double.NaN, 0, Noon)).ParamName);
        Assert.Equal("worstTokens", Assert.Throws<ArgumentException>(() => account.Reserve(key, "m", 0, -1, Noon)).ParamName);
        Assert.Equal("costUsd", Assert.Throws<ArgumentException>(() => account.Settle(key, 1, "m", -1, 0, 0, Noon)).ParamName);
        Assert.Equal(0.3, account.Usage(key, later).SpendUsd, 9);
    }
}
