using Kyros.Perf.Routing;

namespace Kyros.Perf.Tests.Routing;

public sealed class RateLeaseBookTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly long S0 = RateLeaseBook.SecondOf(T0);

    private static RateLeaseAsk Ask(long held, long wanted, params RateUse[] used) => new("m", held, 0, wanted, 0, used);

    [Fact]
    public void Grants_never_lift_the_cluster_above_the_limit_and_what_remains_is_shared_by_want()
    {
        var book = new RateLeaseBook();
        Assert.Equal(30, book.Lease("a", Ask(0, 30), 60, null, T0).Requests);
        // b and c want far more than remains: each gets its part of what remains, by its want among those lately said.
        Assert.Equal(23, book.Lease("b", Ask(0, 100), 60, null, T0).Requests); // 30 × 100 / 130
        var c = book.Lease("c", Ask(0, 100), 60, null, T0);
        Assert.Equal((3, 56L, 3), (c.Requests, c.ClusterRequests, c.Silos)); // 7 × 100 / 230
        // Asking again, round after round, the cluster reaches the limit and never passes it.
        var held = new Dictionary<string, long> { ["a"] = 30, ["b"] = 23, ["c"] = 3 };
        for (var round = 0; round < 10; round++)
            foreach (var silo in held.Keys.ToArray())
            {
                var grant = book.Lease(silo, Ask(held[silo], 100), 60, null, T0.AddMilliseconds(round));
                held[silo] += grant.Requests;
                Assert.True(grant.ClusterRequests <= 60, $"the cluster holds {grant.ClusterRequests}");
            }
        Assert.Equal(60, held.Values.Sum());
        Assert.Equal((60L, 0L), book.HeldOf("m", T0));
    }

    [Fact]
    public void What_is_admitted_counts_for_a_minute_and_what_a_silo_says_it_holds_replaces_what_it_was_granted()
    {
        var book = new RateLeaseBook();
        Assert.Equal(40, book.Lease("a", Ask(0, 40), 60, null, T0).Requests);
        // b wants 40 as a did: what remains (20) is shared by want, 40 of 80.
        Assert.Equal(10, book.Lease("b", Ask(0, 40), 60, null, T0).Requests);
        // a admitted 25 in its first second and gave back all but 5 (or never received its grant); it wants nothing more.
        Assert.Equal(0, book.Lease("a", Ask(5, 0, new RateUse(S0, 25, 0)), 60, null, T0.AddSeconds(1)).Requests);
        Assert.Equal((40L, 0L), book.HeldOf("m", T0.AddSeconds(1)));
        Assert.Equal(20, book.Lease("b", Ask(10, 40), 60, null, T0.AddSeconds(1)).Requests);
        Assert.Equal((60L, 0L), book.HeldOf("m", T0.AddSeconds(1)));
        // Unheard for a lease's life, a and b may have spent what they held by LeaseStaleAfter after they were last
        // heard: it counts as admitted then, and leaves a minute later. The 25 leave a minute after their second.
        Assert.Equal((60L, 0L), book.HeldOf("m", T0.AddSeconds(60)));
        Assert.Equal((35L, 0L), book.HeldOf("m", T0.AddSeconds(61)));
        Assert.Equal((0L, 0L), book.HeldOf("m", T0.AddSeconds(1) + RateLimiter.LeaseStaleAfter + TimeSpan.FromSeconds(61)));
    }

    [Fact]
    public void An_unheard_silos_lease_ends_with_its_life_and_a_restored_book_remembers()
    {
        var book = new RateLeaseBook();
        Assert.Equal(60, book.Lease("a", Ask(0, 100, new RateUse(S0, 0, 0)), 60, null, T0).Requests);
        // A model without limits is neither counted nor granted.
        Assert.Equal(0, book.Lease("a", Ask(0, 10), null, null, T0).Requests);

        // The grain's silo died: a book from its state still counts what was admitted and granted.
        var restored = RateLeaseBook.Restore(book.Export());
        Assert.False(book.Changed);
        Assert.Equal(0, restored.Lease("b", Ask(0, 10, new RateUse(S0 + 1, 0, 0)), 60, null, T0.AddSeconds(1)).Requests);
        // a is heard no more: what it held counts as spent at the last moment it could have been, and goes to b a minute later.
        var spentBy = T0 + RateLimiter.LeaseStaleAfter;
        Assert.Equal(0, restored.Lease("b", Ask(0, 10), 60, null, T0 + RateLeaseBook.LeaseLife + TimeSpan.FromMilliseconds(1)).Requests);
        Assert.Equal(0, restored.Lease("b", Ask(0, 10), 60, null, spentBy.AddSeconds(60)).Requests);
        Assert.Equal(10, restored.Lease("b", Ask(0, 10), 60, null, spentBy.AddSeconds(61)).Requests);
    }

    [Fact]
    public void Tokens_are_leased_the_same_way_and_a_credit_never_takes_a_second_below_nothing()
    {
        var book = new RateLeaseBook();
        var grant = book.Lease("a", new RateLeaseAsk("m", 5, 1_000, 50, 8_000, [new RateUse(S0, 3, 600)]), null, 6_000, T0);
        Assert.Equal((0L, 4_400L, 0L, 6_000L), (grant.Requests, grant.Tokens, grant.ClusterRequests, grant.ClusterTokens));
        Assert.Equal(0, book.Lease("b", new RateLeaseAsk("m", 0, 0, 1, 1, []), null, 6_000, T0).Tokens);
        // a's requests used 100 of the 600 reserved, and someone claims a credit of 10,000 more: the second goes to nothing, no lower.
        book.Lease("a", new RateLeaseAsk("m", 0, 5_400, 0, 0, [new RateUse(S0, 0, -500), new RateUse(S0, 0, -10_000)]), null, 6_000, T0.AddSeconds(1));
        Assert.Equal((0L, 5_400L), book.HeldOf("m", T0.AddSeconds(1)));
    }
}
