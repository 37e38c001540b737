using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Tests.Routing;

public sealed class RateLimiterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly long S0 = RateLeaseBook.SecondOf(T0);
    private static readonly TimeSpan Horizon = TimeSpan.FromSeconds(2);

    [Fact]
    public void Alone_a_silo_holds_the_limit_over_a_sliding_minute_and_a_settlement_corrects_its_second()
    {
        var limiter = new RateLimiter();
        Assert.Null(limiter.TryReserve("m", 4_200, null, 10_000, T0));
        limiter.Settle("m", 4_200, 300, T0.AddSeconds(20), reservedAt: T0);
        Assert.Equal(300, limiter.StateOf("m", null, 10_000, T0.AddSeconds(20))!.SiloTokens);
        Assert.Null(limiter.TryReserve("m", 4_200, null, 10_000, T0.AddSeconds(30)));
        // The first reservation leaves the minute with its correction: then 4,200 are held, and 5,801 more would pass.
        Assert.Equal(4_500, limiter.StateOf("m", null, 10_000, T0.AddSeconds(60))!.SiloTokens);
        Assert.Equal(4_200, limiter.StateOf("m", null, 10_000, T0.AddSeconds(61))!.SiloTokens);
        Assert.NotNull(limiter.TryReserve("m", 5_801, null, 10_000, T0.AddSeconds(61)));
        // A request reserved over a minute ago that used 2,000 more counts now; its credit would not.
        limiter.Settle("m", 100, 2_100, T0.AddSeconds(62), reservedAt: T0);
        limiter.Settle("m", 4_200, 0, T0.AddSeconds(62), reservedAt: T0);
        Assert.Equal(6_200, limiter.StateOf("m", null, 10_000, T0.AddSeconds(62))!.SiloTokens);

        // A settlement for tokens this silo never reserved credits no more than it holds.
        limiter.Settle("m", 100_000_000, 0, T0.AddSeconds(63));
        Assert.Equal(0, limiter.StateOf("m", null, 10_000, T0.AddSeconds(63))!.SiloTokens);
        Assert.NotNull(limiter.TryReserve("m", 10_001, null, 10_000, T0.AddSeconds(63)));
    }

    [Fact]
    public void Asks_report_what_was_admitted_follow_demand_and_give_back_what_goes_unused()
    {
        var model = new ModelDescriptor { Id = "m", RequestsPerMinute = 600, TokensPerMinute = 60_000 };
        var limiter = new RateLimiter();
        limiter.AwaitLeases(T0, silos: 3);
        // Nothing seen yet: a tenth of an even share (600 / 3 / 10 requests) and a first request's tokens in hand.
        AssertAsk((0, 0, 20, RateLimiter.FirstRequestTokens), [], limiter.Asks([model], T0, Horizon).Single());

        // 10 requests of 100 tokens in half a second, all refused: 20/s, so 40 requests for the next 2 s.
        for (var i = 0; i < 10; i++) Assert.NotNull(limiter.TryReserve("m", 100, 600, 60_000, T0.AddMilliseconds(100)));
        var busy = limiter.Asks([model], T0.AddMilliseconds(500), Horizon).Single();
        Assert.Equal((40L, RateLimiter.FirstRequestTokens), (busy.WantedRequests, busy.WantedTokens)); // 4,000 tokens, or a first request's at least
        limiter.Apply([new RateLeaseGrant("m", 40, 4_000, 40, 4_000, 1)], T0.AddMilliseconds(500), silos: 3);
        for (var i = 0; i < 5; i++) Assert.Null(limiter.TryReserve("m", 100, 600, 60_000, T0.AddMilliseconds(600)));

        // The next ask reports the 6 admitted; the grain does not answer, so the one after reports them again.
        Assert.Null(limiter.TryReserve("m", 100, 600, 60_000, T0.AddMilliseconds(1_700)));
        var lost = limiter.Asks([model], T0.AddMilliseconds(1_800), Horizon).Single();
        Assert.Equal([new RateUse(S0, 5, 500), new RateUse(S0 + 1, 1, 100)], lost.Used);
        limiter.Unheard(silos: 3);
        // No demand since: one request and the tokens of a first request are kept in hand, and the rest of the lease goes back.
        var quiet = limiter.Asks([model], T0.AddMilliseconds(3_000), Horizon).Single();
        AssertAsk((34, 3_400, 0, RateLimiter.FirstRequestTokens - 3_400), [new RateUse(S0, 5, 500), new RateUse(S0 + 1, 1, 100)], quiet);
        limiter.Apply([new RateLeaseGrant("m", 0, 0, 7, 600, 1)], T0.AddMilliseconds(3_000), silos: 3);
        Assert.Empty(limiter.Asks([model], T0.AddMilliseconds(3_500), Horizon).Single().Used);
    }

    [Fact]
    public void An_idle_silo_gives_back_its_request_in_hand_once_the_cluster_holds_the_whole_limit()
    {
        var model = new ModelDescriptor { Id = "m", RequestsPerMinute = 60 };
        var limiter = new RateLimiter();
        limiter.AwaitLeases(T0, silos: 3);
        limiter.Asks([model], T0, Horizon);
        limiter.Apply([new RateLeaseGrant("m", 1, 0, 59, 0, 3)], T0, silos: 3);
        Assert.Equal(1, limiter.Asks([model], T0.AddSeconds(1), Horizon).Single().HeldRequests);
        limiter.Apply([new RateLeaseGrant("m", 0, 0, 60, 0, 3)], T0.AddSeconds(1), silos: 3);
        AssertAsk((0, 0, 0, 0), [], limiter.Asks([model], T0.AddSeconds(2), Horizon).Single());
    }

    private static void AssertAsk((long Held, long HeldTokens, long Wanted, long WantedTokens) expected, RateUse[] used, RateLeaseAsk ask)
    {
        Assert.Equal(expected, (ask.HeldRequests, ask.HeldTokens, ask.WantedRequests, ask.WantedTokens));
        Assert.Equal(used, ask.Used.OrderBy(u => u.Second));
    }
}
