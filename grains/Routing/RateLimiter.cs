using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Kyros.Perf.Catalog;

namespace Kyros.Perf.Routing;

/// <summary>
/// This silo's budget of each limited model. In a cluster a decision spends the lease this silo holds, so it makes no
/// grain call: <see cref="RateLeaseRenewal"/> reports what was spent and asks the <see cref="IRateLeaseGrain"/> every
/// snapshot interval for more (<see cref="Asks"/>, sized by the demand since the last ask), and gives back what it will
/// not use. When no lease has been heard for <see cref="LeaseStaleAfter"/> (or ever, in a process with no renewal), the
/// silo keeps to an even share of the limit among the silos it knows over a sliding minute of its own admissions, and
/// says so. Thread-safe; one per silo.
/// </summary>
public sealed class RateLimiter
{
    /// <summary>How long a silo spends its lease without hearing the grain: six asks at the default interval, within <see cref="RateLeaseBook.LeaseLife"/>.</summary>
    public static readonly TimeSpan LeaseStaleAfter = TimeSpan.FromSeconds(3);

    /// <summary>Tokens a silo keeps in hand at least (or a request's worth, when its requests are larger), so a first request seldom waits.</summary>
    public const long FirstRequestTokens = 4_096;

    private readonly ConcurrentDictionary<string, Budget> _budgets = new(StringComparer.Ordinal);
    private volatile LeaseStatus _status = new(DateTimeOffset.MinValue, 1);

    /// <summary>Reserves one request and <paramref name="tokens"/>, or says which limit is spent.</summary>
    public string? TryReserve(string model, long tokens, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return null;
        var budget = _budgets.GetOrAdd(model, static _ => new Budget());
        var share = ShareOf(_status, now);
        var second = RateLeaseBook.SecondOf(now);
        lock (budget)
        {
            budget.Expire(second);
            budget.AskedRequests++;
            budget.AskedTokens += tokens;
            if (share == 0)
            {
                if (requestsPerMinute is not null && budget.FreeRequests < 1)
                    return $"rate limit: this silo's lease is spent ({budget.WindowRequests} admitted here in the last minute; the cluster holds {budget.ClusterRequests} of {requestsPerMinute})";
                if (tokensPerMinute is not null && budget.FreeTokens < tokens)
                    return $"rate limit: {tokens} tokens would pass this silo's lease of {budget.FreeTokens} (the cluster holds {budget.ClusterTokens} of {tokensPerMinute})";
                if (requestsPerMinute is not null) budget.FreeRequests--;
                if (tokensPerMinute is not null) budget.FreeTokens -= tokens;
            }
            else
            {
                var (requestCap, tokenCap) = ShareCaps(requestsPerMinute, tokensPerMinute, share);
                if (budget.WindowRequests + 1 > requestCap)
                    return $"rate limit: {budget.WindowRequests} of {requestCap} requests in the last minute{ShareReason(share)}";
                if (budget.WindowTokens + tokens > tokenCap)
                    return $"rate limit: {budget.WindowTokens} + {tokens} tokens would pass {tokenCap} in the last minute{ShareReason(share)}";
            }
            budget.Admit(second, 1, tokens);
            return null;
        }
    }

    /// <summary>
    /// Replaces a reservation's tokens with what the request used, counted in the second it was reserved (now, when the
    /// caller does not know) while that is within the minute; an overrun of an older one counts now. A credit goes back
    /// to the lease and never takes this silo's count below nothing, so one for a reservation made elsewhere lifts nothing.
    /// </summary>
    public void Settle(string model, long reservedTokens, long actualTokens, DateTimeOffset now, DateTimeOffset? reservedAt = null)
    {
        if (!_budgets.TryGetValue(model, out var budget)) return;
        var second = RateLeaseBook.SecondOf(now);
        lock (budget)
        {
            budget.Expire(second);
            var at = RateLeaseBook.SecondOf(reservedAt ?? now);
            var correction = actualTokens - reservedTokens;
            if (at <= second - RateLeaseBook.WindowSeconds)
            {
                if (correction < 0) return;
                at = second;
            }
            correction = Math.Max(correction, -budget.WindowTokens);
            if (correction == 0) return;
            budget.Admit(at, 0, correction);
            // While on a lease the difference moves between the lease and what was spent; a debt leaves the lease short.
            budget.FreeTokens -= correction;
        }
    }

    /// <summary>
    /// What to report and ask the lease grain for, per limited model: what was admitted since the last answered ask, the
    /// lease unspent, and enough for <paramref name="horizon"/> of the demand since the last ask (a tenth of an even share
    /// at least, so a first request or a burst seldom waits, until the cluster holds the whole limit); a lease more than
    /// twice that is given back down to it.
    /// </summary>
    public RateLeaseAsk[] Asks(IEnumerable<ModelDescriptor> limited, DateTimeOffset now, TimeSpan horizon)
    {
        var second = RateLeaseBook.SecondOf(now);
        var asks = new List<RateLeaseAsk>();
        foreach (var model in limited)
        {
            var budget = _budgets.GetOrAdd(model.Id, static _ => new Budget());
            lock (budget)
            {
                budget.Expire(second);
                var (requests, tokens) = budget.Target(model, now, horizon, _status.Silos);
                // An idle silo's request in hand goes back once the cluster holds the whole limit: a busy silo can spend it.
                if (budget.AskedNone && model.RequestsPerMinute is { } rpm && budget.ClusterRequests >= rpm) requests = 0;
                if (budget.AskedNone && model.TokensPerMinute is { } tpm && budget.ClusterTokens >= tpm) tokens = 0;
                budget.FreeRequests = Math.Max(0, budget.FreeRequests);
                budget.FreeTokens = Math.Max(0, budget.FreeTokens);
                if (budget.FreeRequests > 2 * requests) budget.FreeRequests = requests;
                if (budget.FreeTokens > 2 * tokens) budget.FreeTokens = tokens;
                asks.Add(new RateLeaseAsk(model.Id, budget.FreeRequests, budget.FreeTokens,
                    Math.Max(0, requests - budget.FreeRequests), Math.Max(0, tokens - budget.FreeTokens), budget.TakeUnreported()));
            }
        }
        return [.. asks];
    }

    /// <summary>Adds what the grain granted; what was reported is acknowledged, and the silo spends leases again.</summary>
    public void Apply(IEnumerable<RateLeaseGrant> grants, DateTimeOffset now, int silos)
    {
        foreach (var grant in grants)
        {
            if (!_budgets.TryGetValue(grant.Model, out var budget)) continue;
            lock (budget)
            {
                budget.FreeRequests += Math.Max(0, grant.Requests);
                budget.FreeTokens += Math.Max(0, grant.Tokens);
                (budget.ClusterRequests, budget.ClusterTokens) = (grant.ClusterRequests, grant.ClusterTokens);
                budget.InFlight.Clear();
            }
        }
        _status = new LeaseStatus(now, Math.Max(1, silos));
    }

    /// <summary>The grain did not answer: what was reported is reported again, and the silos to share among should that last.</summary>
    public void Unheard(int silos)
    {
        foreach (var budget in _budgets.Values)
            lock (budget)
                budget.ReportAgain();
        _status = _status with { Silos = Math.Max(1, silos) };
    }

    /// <summary>
    /// Starts spending leases only: until the grain is heard, or for <see cref="LeaseStaleAfter"/>, a silo that joins a
    /// cluster admits nothing it was not granted.
    /// </summary>
    public void AwaitLeases(DateTimeOffset now, int silos) => _status = new LeaseStatus(now, Math.Max(1, silos));

    /// <summary>How this silo stands with the model's limits; null for a model without limits.</summary>
    public RateLimitState? StateOf(string model, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return null;
        var status = _status;
        var share = ShareOf(status, now);
        var heard = status.HeardAt == DateTimeOffset.MinValue ? (double?)null : Math.Max(0, (now - status.HeardAt).TotalSeconds);
        var budget = _budgets.GetOrAdd(model, static _ => new Budget());
        lock (budget)
        {
            budget.Expire(RateLeaseBook.SecondOf(now));
            var (requestCap, tokenCap) = share > 0 ? ShareCaps(requestsPerMinute, tokensPerMinute, share) : (budget.FreeRequests, budget.FreeTokens);
            return new RateLimitState(share > 0 ? RateLimitMode.Share : RateLimitMode.Lease, budget.WindowRequests, budget.WindowTokens,
                requestsPerMinute is null ? null : requestCap, tokensPerMinute is null ? null : tokenCap,
                requestsPerMinute is null ? null : budget.ClusterRequests, tokensPerMinute is null ? null : budget.ClusterTokens, status.Silos, heard);
        }
    }

    /// <summary>The silos to share among while the grain is unheard; 0 while leases are spent.</summary>
    private static int ShareOf(LeaseStatus status, DateTimeOffset now) => now - status.HeardAt > LeaseStaleAfter ? status.Silos : 0;

    /// <summary>An even share of each limit over a sliding minute: at least 1 a minute, so a limit smaller than the silos can be passed.</summary>
    private static (long Requests, long Tokens) ShareCaps(int? requestsPerMinute, long? tokensPerMinute, int share) =>
        (requestsPerMinute is { } rpm ? Math.Max(1, rpm / share) : long.MaxValue, tokensPerMinute is { } tpm ? Math.Max(1, tpm / share) : long.MaxValue);

    private static string ShareReason(int share) =>
        share == 1 ? "" : $" (an even share among {share} silos: the lease grain has not answered for {LeaseStaleAfter.TotalSeconds:0} s)";

    private sealed record LeaseStatus(DateTimeOffset HeardAt, int Silos);

    /// <summary>One model on this silo: its lease unspent, its admissions of the last minute, what it has not reported, and the demand since the last ask.</summary>
    private sealed class Budget
    {
        public long FreeRequests;
        public long FreeTokens;
        public long ClusterRequests;
        public long ClusterTokens;
        public long AskedRequests;
        public long AskedTokens;
        public DateTimeOffset LastAsk = DateTimeOffset.MinValue;
        public double TokensPerRequest;
        /// <summary>Whether the last <see cref="Target"/> saw no demand at all.</summary>
        public bool AskedNone;
        public long WindowRequests;
        public long WindowTokens;
        // The last minute's admissions, one slot per second (a ring of WindowSeconds), so a decision allocates nothing.
        private readonly long[] _seconds = new long[RateLeaseBook.WindowSeconds];
        private readonly long[] _requests = new long[RateLeaseBook.WindowSeconds];
        private readonly long[] _tokens = new long[RateLeaseBook.WindowSeconds];
        private long _expiredThrough = long.MinValue;
        private readonly Dictionary<long, (long Requests, long Tokens)> _unreported = [];
        public readonly List<RateUse> InFlight = [];

        public void Admit(long second, long requests, long tokens)
        {
            var slot = (int)(second % RateLeaseBook.WindowSeconds);
            if (_seconds[slot] != second) (_seconds[slot], _requests[slot], _tokens[slot]) = (second, 0, 0);
            _requests[slot] += requests;
            _tokens[slot] += tokens;
            (WindowRequests, WindowTokens) = (WindowRequests + requests, WindowTokens + tokens);
            Unreported(second, requests, tokens);
        }

        private void Unreported(long second, long requests, long tokens)
        {
            ref var unreported = ref CollectionsMarshal.GetValueRefOrAddDefault(_unreported, second, out _);
            unreported = (unreported.Requests + requests, unreported.Tokens + tokens);
        }

        /// <summary>Drops the seconds that left the window; a credit dated back leaves with its second.</summary>
        public void Expire(long second)
        {
            var through = second - RateLeaseBook.WindowSeconds;
            if (through <= _expiredThrough) return;
            for (var s = Math.Max(_expiredThrough + 1, through - RateLeaseBook.WindowSeconds + 1); s <= through; s++)
            {
                var slot = (int)(s % RateLeaseBook.WindowSeconds);
                if (_seconds[slot] != s) continue;
                (WindowRequests, WindowTokens) = (WindowRequests - _requests[slot], WindowTokens - _tokens[slot]);
                (_seconds[slot], _requests[slot], _tokens[slot]) = (0, 0, 0);
            }
            _expiredThrough = through;
        }

        /// <summary>What was admitted since the last report, now on its way to the grain.</summary>
        public RateUse[] TakeUnreported()
        {
            ReportAgain();
            foreach (var (second, (requests, tokens)) in _unreported) InFlight.Add(new RateUse(second, requests, tokens));
            _unreported.Clear();
            return [.. InFlight];
        }

        /// <summary>A report that got no answer goes with the next one (counted twice at worst, which only holds back more).</summary>
        public void ReportAgain()
        {
            foreach (var use in InFlight) Unreported(use.Second, use.Requests, use.Tokens);
            InFlight.Clear();
        }

        /// <summary>
        /// What to keep in hand: <paramref name="horizon"/> of the demand since the last ask, and at least a tenth of an
        /// even share (one request, a first request's tokens), so that a burst on a quiet silo does not wait for the next ask.
        /// </summary>
        public (long Requests, long Tokens) Target(ModelDescriptor model, DateTimeOffset now, TimeSpan horizon, int silos)
        {
            var seconds = LastAsk == DateTimeOffset.MinValue ? horizon.TotalSeconds : Math.Max(0.001, (now - LastAsk).TotalSeconds);
            if (AskedRequests > 0) TokensPerRequest = (double)AskedTokens / AskedRequests;
            AskedNone = AskedRequests == 0;
            var requests = model.RequestsPerMinute is { } rpm
                ? Math.Max(Math.Max(1, rpm / (10L * silos)), (long)Math.Ceiling(AskedRequests / seconds * horizon.TotalSeconds)) : 0;
            var inHand = Math.Max(Math.Max(FirstRequestTokens, (long)Math.Ceiling(TokensPerRequest)), (model.TokensPerMinute ?? 0) / (10L * silos));
            var tokens = model.TokensPerMinute is { } tpm ? Math.Max(Math.Min(tpm, inHand), (long)Math.Ceiling(AskedTokens / seconds * horizon.TotalSeconds)) : 0;
            (AskedRequests, AskedTokens, LastAsk) = (0, 0, now);
            return (requests, tokens);
        }
    }
}
