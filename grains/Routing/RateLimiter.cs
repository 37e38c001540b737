namespace Kyros.Perf.Routing;

/// <summary>
/// Requests and tokens per model over the last minute, reserved at decision time and settled when the real token
/// count is known. Each silo counts its own reservations and adds what the other silos reported at the last exchange
/// (<see cref="ApplyOthers"/>, every snapshot interval), so a catalog limit holds for the cluster without a grain call
/// per decision. Thread-safe; one per silo.
/// </summary>
public sealed class RateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, Minute> _usage = new(StringComparer.Ordinal);
    private volatile Others _others = new(new Dictionary<string, RateUsage>(), DateTimeOffset.MinValue);

    /// <summary>Reserves one request and <paramref name="tokens"/>, or says which limit is spent, counting the other silos' use.</summary>
    public string? TryReserve(string model, long tokens, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return null;
        var others = OthersOf(model, now);
        lock (_usage)
        {
            var usage = Usage(model, now);
            var requests = usage.Requests + (others?.Requests ?? 0);
            // Settlements may lower the count, never below nothing.
            var used = Math.Max(0, usage.Tokens) + (others?.Tokens ?? 0);
            if (requests + 1 > requestsPerMinute) return $"rate limit: {requests} of {requestsPerMinute} requests this minute";
            if (used + tokens > tokensPerMinute) return $"rate limit: {used} + {tokens} tokens would pass {tokensPerMinute} this minute";
            usage.Add(now, tokens, request: true);
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
                if (usage.Requests > 0 || usage.Tokens > 0) used.Add(new RateUsage(model, usage.Requests, Math.Max(0, usage.Tokens)));
            }
            return [.. used];
        }
    }

    /// <summary>Replaces what the other silos have used, as the exchange at <paramref name="now"/> reported it.</summary>
    public void ApplyOthers(IEnumerable<RateUsage> others, DateTimeOffset now) =>
        _others = new Others(others.ToDictionary(u => u.Model, StringComparer.Ordinal), now);

    /// <summary>What the cluster has used of the model's limits over the last minute: this silo's use now, the others' at the last exchange.</summary>
    public (int Requests, long Tokens) UsageOf(string model, DateTimeOffset now)
    {
        var others = OthersOf(model, now);
        lock (_usage)
        {
            if (!_usage.ContainsKey(model)) return (others?.Requests ?? 0, others?.Tokens ?? 0);
            var usage = Usage(model, now);
            return (usage.Requests + (others?.Requests ?? 0), Math.Max(0, usage.Tokens) + (others?.Tokens ?? 0));
        }
    }

    /// <summary>
    /// Replaces a reservation's tokens with what the request used. A reservation made before the last minute has already
    /// left the count, so settling it would only credit or charge the wrong minute: it is ignored.
    /// </summary>
    public void Settle(string model, long reservedTokens, long actualTokens, DateTimeOffset now, DateTimeOffset? reservedAt = null)
    {
        if (reservedAt is { } at && now - at >= Window) return;
        lock (_usage) Usage(model, now).Add(now, actualTokens - reservedTokens, request: false);
    }

    /// <summary>The others' use of the model as last heard; nothing once that is a minute old (the exchange has been failing).</summary>
    private RateUsage? OthersOf(string model, DateTimeOffset now)
    {
        var others = _others;
        return now - others.HeardAt > Window ? null : others.ByModel.GetValueOrDefault(model);
    }

    private sealed record Others(IReadOnlyDictionary<string, RateUsage> ByModel, DateTimeOffset HeardAt);

    private Minute Usage(string model, DateTimeOffset now)
    {
        if (!_usage.TryGetValue(model, out var usage)) _usage[model] = usage = new Minute();
        usage.ExpireBefore(now - Window);
        return usage;
    }

    /// <summary>One model's entries of the last minute, with running totals so a decision never scans them.</summary>
    private sealed class Minute
    {
        private readonly Queue<(DateTimeOffset At, long Tokens, bool Request)> _entries = new();

        public int Requests { get; private set; }
        public long Tokens { get; private set; }

        public void Add(DateTimeOffset at, long tokens, bool request)
        {
            _entries.Enqueue((at, tokens, request));
            Tokens += tokens;
            if (request) Requests++;
        }

        public void ExpireBefore(DateTimeOffset cutoff)
        {
            while (_entries.Count > 0 && _entries.Peek().At <= cutoff)
            {
                var (_, tokens, request) = _entries.Dequeue();
                Tokens -= tokens;
                if (request) Requests--;
            }
        }
    }
}
