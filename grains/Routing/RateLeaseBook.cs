namespace Kyros.Perf.Routing;

/// <summary>
/// Every limited model's budget over a sliding minute: what the cluster admitted in each of the last 61 seconds (as the
/// silos report it), and the leases the silos hold unspent. A grant never lifts the two together above the limit, and a
/// request counts as a lease until it is admitted and then as an admission for a minute after, so no minute, sliding or
/// calendar, admits more than the limit. A silo unheard for <see cref="LeaseLife"/> has stopped spending its lease
/// (<see cref="RateLimiter.LeaseStaleAfter"/>): its lease counts as admitted when it could last have been spent, for a
/// minute after. Not thread-safe: one grain owns it.
/// </summary>
public sealed class RateLeaseBook
{
    /// <summary>How long a silo's unspent lease counts after it was last heard: longer than a silo spends it unheard.</summary>
    public static readonly TimeSpan LeaseLife = TimeSpan.FromSeconds(5);

    /// <summary>A silo's want counts toward the others' fair share this long after it was said (four asks at the default interval).</summary>
    public static readonly TimeSpan WantsLast = TimeSpan.FromSeconds(2);

    /// <summary>An admission in second s counts until s + 61: the whole of its second plus a minute.</summary>
    public const long WindowSeconds = 61;

    private readonly Dictionary<string, ModelBook> _models = new(StringComparer.Ordinal);

    /// <summary>Whether anything kept in state changed since the last <see cref="Export"/>.</summary>
    public bool Changed { get; private set; }

    /// <summary>Unix seconds: the second an admission counts in.</summary>
    public static long SecondOf(DateTimeOffset at) => at.ToUnixTimeSeconds();

    /// <summary>
    /// Records what <paramref name="silo"/> admitted, takes what it holds unspent as it says (it alone knows what it gave
    /// back or never received), and grants a share of what remains of the limit: its want, cut to its part of the wants
    /// of every silo that asked lately when they add up to more than remains. A dimension without a limit is not granted.
    /// </summary>
    public RateLeaseGrant Lease(string silo, RateLeaseAsk ask, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return new RateLeaseGrant(ask.Model, 0, 0, 0, 0, 0);
        var book = Book(ask.Model);
        var second = SecondOf(now);
        foreach (var use in ask.Used ?? [])
            // A use from the future (a skewed clock) counts from now; one already out of the window changes nothing.
            if (use is not null && use.Second > second - WindowSeconds)
                book.Admit(Math.Min(use.Second, second), requestsPerMinute is null ? 0 : Math.Max(0, use.Requests), tokensPerMinute is null ? 0 : use.Tokens);
        book.Expire(second, now);
        book.Wants[silo] = new Wanted(Math.Max(0, ask.WantedRequests), Math.Max(0, ask.WantedTokens), now);
        var held = new Held(requestsPerMinute is null ? 0 : Math.Max(0, ask.HeldRequests), tokensPerMinute is null ? 0 : Math.Max(0, ask.HeldTokens), now);

        book.Holders[silo] = held;
        var (clusterRequests, clusterTokens) = book.Total();
        var (wantedRequests, wantedTokens) = (0L, 0L);
        // Expire has dropped the wants older than WantsLast.
        foreach (var want in book.Wants.Values) (wantedRequests, wantedTokens) = (wantedRequests + want.Requests, wantedTokens + want.Tokens);
        var requests = requestsPerMinute is { } rpm ? Share(rpm - clusterRequests, ask.WantedRequests, wantedRequests) : 0;
        var tokens = tokensPerMinute is { } tpm ? Share(tpm - clusterTokens, ask.WantedTokens, wantedTokens) : 0;
        book.Holders[silo] = held with { Requests = held.Requests + requests, Tokens = held.Tokens + tokens };
        Changed = true;
        return new RateLeaseGrant(ask.Model, requests, tokens, clusterRequests + requests, clusterTokens + tokens, book.Holders.Count);
    }

    /// <summary>What the cluster holds of the model now: admitted in the last minute plus the leases unspent.</summary>
    public (long Requests, long Tokens) HeldOf(string model, DateTimeOffset now)
    {
        if (!_models.TryGetValue(model, out var book)) return (0, 0);
        book.Expire(SecondOf(now), now);
        return book.Total();
    }

    /// <summary>Everything kept, for the grain's state; clears <see cref="Changed"/>.</summary>
    public RateLeaseState Export()
    {
        Changed = false;
        var state = new RateLeaseState();
        foreach (var (model, book) in _models)
        {
            state.Holdings.AddRange(book.Holders.Select(h => new RateLeaseHolding(model, h.Key, h.Value.Requests, h.Value.Tokens, h.Value.At)));
            state.Admitted.AddRange(book.Admitted.Select(a => new RateLeaseAdmitted(model, a.Key, a.Value.Requests, a.Value.Tokens)));
        }
        return state;
    }

    /// <summary>A book from the grain's state: what was admitted and granted before its silo went away still counts.</summary>
    public static RateLeaseBook Restore(RateLeaseState state)
    {
        var restored = new RateLeaseBook();
        foreach (var h in state.Holdings) restored.Book(h.Model).Holders[h.Silo] = new Held(h.Requests, h.Tokens, h.HeardAt);
        foreach (var a in state.Admitted) restored.Book(a.Model).Admit(a.Second, a.Requests, a.Tokens);
        return restored;
    }

    /// <summary>The want, cut to its share of the lately wanted when they exceed what remains; at least 1 while any remains.</summary>
    private static long Share(long remaining, long wanted, long allWanted)
    {
        if (remaining <= 0 || wanted <= 0) return 0;
        if (allWanted <= remaining) return Math.Min(wanted, remaining);
        var share = (long)Math.Floor((double)remaining * wanted / allWanted);
        return Math.Clamp(share, 1, Math.Min(wanted, remaining));
    }

    private ModelBook Book(string model)
    {
        if (!_models.TryGetValue(model, out var book)) _models[model] = book = new ModelBook();
        return book;
    }

    private readonly record struct Held(long Requests, long Tokens, DateTimeOffset At);

    private readonly record struct Wanted(long Requests, long Tokens, DateTimeOffset At);

    private sealed class ModelBook
    {
        public readonly Dictionary<string, Held> Holders = new(StringComparer.Ordinal);
        public readonly Dictionary<string, Wanted> Wants = new(StringComparer.Ordinal);
        public readonly SortedDictionary<long, (long Requests, long Tokens)> Admitted = new();

        public void Admit(long second, long requests, long tokens)
        {
            var (r, t) = Admitted.GetValueOrDefault(second);
            // A credit never takes a second below nothing: it cannot lift the limit for others.
            Admitted[second] = (r + requests, Math.Max(0, t + tokens));
        }

        public void Expire(long second, DateTimeOffset now)
        {
            // A silo unheard for a lease's life may have spent its lease before it stopped (died, or lost the grain): what
            // it held counts as admitted at the last moment it could have been, and leaves a minute after that.
            foreach (var (silo, held) in Holders.Where(h => now - h.Value.At > LeaseLife).ToArray())
            {
                Admit(SecondOf(held.At + RateLimiter.LeaseStaleAfter), held.Requests, held.Tokens);
                Holders.Remove(silo);
            }
            foreach (var old in Admitted.Keys.TakeWhile(s => s <= second - WindowSeconds).ToArray()) Admitted.Remove(old);
            foreach (var stale in Wants.Where(w => now - w.Value.At > WantsLast).Select(w => w.Key).ToArray()) Wants.Remove(stale);
        }

        public (long Requests, long Tokens) Total()
        {
            var (requests, tokens) = (0L, 0L);
            foreach (var (r, t) in Admitted.Values) (requests, tokens) = (requests + r, tokens + t);
            foreach (var held in Holders.Values) (requests, tokens) = (requests + held.Requests, tokens + held.Tokens);
            return (requests, tokens);
        }
    }
}
