namespace Kyros.Perf.Routing;

/// <summary>
/// Requests and tokens per model over the last minute, reserved at decision time and settled when the real token
/// count is known. Each silo counts its own reservations and adds what the other silos reported at the last exchange
/// (<see cref="ApplyOthers"/>, every snapshot interval), so a catalog limit holds for the cluster without a grain call
/// per decision. When no exchange has been heard for <see cref="ExchangeStaleAfter"/>, each silo keeps to an even share
/// of the limit among the silos it last heard of. Thread-safe; one per silo.
/// </summary>
public sealed class RateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>How long the others' use, as last heard, is trusted: ten refreshes at the default interval.</summary>
    public static readonly TimeSpan ExchangeStaleAfter = TimeSpan.FromSeconds(5);
    private readonly Dictionary<string, Minute> _usage = new(StringComparer.Ordinal);
    private volatile Others _others = new(new Dictionary<string, RateUsage>(), 1, DateTimeOffset.MinValue);

    /// <summary>Reserves one request and <paramref name="tokens"/>, or says which limit is spent, counting the other silos' use.</summary>
    public string? TryReserve(string model, long tokens, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return null;
        var (others, silos) = OthersOf(model, now);
        var requestLimit = requestsPerMinute is { } rpm ? Math.Max(1, rpm / silos) : (int?)null;
        var tokenLimit = tokensPerMinute is { } tpm ? Math.Max(1, tpm / silos) : (long?)null;
        lock (_usage)
        {
            var usage = Usage(model, now);
            var requests = usage.Requests + (others?.Requests ?? 0);
            var used = usage.Held + (others?.Tokens ?? 0);
            if (requests + 1 > requestLimit) return $"rate limit: {requests} of {requestLimit} requests this minute{Share(silos)}";
            if (used + tokens > tokenLimit) return $"rate limit: {used} + {tokens} tokens would pass {tokenLimit} this minute{Share(silos)}";
            usage.Reserve(now, tokens);
            return null;
        }
    }

    /// <summary>This silo's use over the last minute, per model that has any: what it reports to the others.</summary>
    public RateUsage[] LocalUsage(DateTimeOffset now)
    {
        lock (_usage)
        {
            var used = new List<RateUsage>();
            foreach (var model in _usage.Keys)
            {
                var usage = Usage(model, now);
                if (usage.Requests > 0 || usage.Tokens > 0) used.Add(new RateUsage(model, usage.Requests, usage.Held));
            }
            return [.. used];
        }
    }

    /// <summary>Replaces what the other silos have used, as the exchange at <paramref name="now"/> reported it, and how many silos there are.</summary>
    public void ApplyOthers(RateUsageReport report, DateTimeOffset now) =>
        _others = new Others(report.Others.ToDictionary(u => u.Model, StringComparer.Ordinal), Math.Max(1, report.Silos), now);

    /// <summary>What the cluster has used of the model's limits over the last minute: this silo's use now, the others' at the last exchange.</summary>
    public (int Requests, long Tokens) UsageOf(string model, DateTimeOffset now)
    {
        var (others, _) = OthersOf(model, now);
        lock (_usage)
        {
            if (!_usage.ContainsKey(model)) return (others?.Requests ?? 0, others?.Tokens ?? 0);
            var usage = Usage(model, now);
            return (usage.Requests + (others?.Requests ?? 0), usage.Held + (others?.Tokens ?? 0));
        }
    }

    /// <summary>
    /// Replaces a reservation's tokens with what the request used. The correction leaves the count when the reservation
    /// does, a minute after <paramref name="reservedAt"/> (or after now, when the caller does not know when it reserved);
    /// a reservation already out of the count is not corrected.
    /// </summary>
    public void Settle(string model, long reservedTokens, long actualTokens, DateTimeOffset now, DateTimeOffset? reservedAt = null)
    {
        var at = reservedAt ?? now;
        if (now - at >= Window) return;
        lock (_usage)
        {
            // A credit never takes back more than this silo holds: a settlement for a reservation made elsewhere cannot lift its limit.
            var usage = Usage(model, now);
            usage.Correct(at, Math.Max(actualTokens - reservedTokens, -usage.Held));
        }
    }

    /// <summary>The others' use of the model as last heard, and the silos to share among when that is stale (the exchange has been failing).</summary>
    private (RateUsage? Others, int Silos) OthersOf(string model, DateTimeOffset now)
    {
        var others = _others;
        return now - others.HeardAt > ExchangeStaleAfter ? (null, others.Silos) : (others.ByModel.GetValueOrDefault(model), 1);
    }

    private static string Share(int silos) =>
        silos == 1 ? "" : $" (an even share among {silos} silos: the other silos have not been heard for {ExchangeStaleAfter.TotalSeconds:0} s)";

    private sealed record Others(IReadOnlyDictionary<string, RateUsage> ByModel, int Silos, DateTimeOffset HeardAt);

    private Minute Usage(string model, DateTimeOffset now)
    {
        if (!_usage.TryGetValue(model, out var usage)) _usage[model] = usage = new Minute();
        usage.ExpireBefore(now - Window);
        return usage;
    }

    /// <summary>One model's entries of the last minute, with running totals so a decision never scans them.</summary>
    private sealed class Minute
    {
        private readonly Queue<(DateTimeOffset At, long Tokens)> _reservations = new();
        // Corrections arrive in the order requests finish, not the order they were reserved: oldest reservation first.
        private readonly PriorityQueue<long, DateTimeOffset> _corrections = new();

        public int Requests { get; private set; }
        public long Tokens { get; private set; }

        /// <summary>The tokens held: settlements may lower the count, never below nothing.</summary>
        public long Held => Math.Max(0, Tokens);

        public void Reserve(DateTimeOffset at, long tokens)
        {
            _reservations.Enqueue((at, tokens));
            Tokens += tokens;
            Requests++;
        }

        public void Correct(DateTimeOffset reservedAt, long tokens)
        {
            _corrections.Enqueue(tokens, reservedAt);
            Tokens += tokens;
        }

        public void ExpireBefore(DateTimeOffset cutoff)
        {
            while (_reservations.Count > 0 && _reservations.Peek().At <= cutoff)
            {
                Tokens -= _reservations.Dequeue().Tokens;
                Requests--;
            }
            while (_corrections.TryPeek(out var tokens, out var at) && at <= cutoff)
            {
                _corrections.Dequeue();
                Tokens -= tokens;
            }
        }
    }
}
