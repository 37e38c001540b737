namespace Kyros.Perf.Routing;

/// <summary>
/// Requests and tokens per model over the last minute, reserved at decision time and settled when the real token
/// count is known. Thread-safe; one per silo, each enforcing its share of a catalog limit.
/// </summary>
public sealed class RateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, Minute> _usage = new(StringComparer.Ordinal);

    /// <summary>
    /// Reserves one request and <paramref name="tokens"/>, or says which limit is spent. With <paramref name="silos"/>
    /// routing silos, this one enforces its share of each limit (at least 1), so the cluster keeps to the provider's.
    /// </summary>
    public string? TryReserve(string model, long tokens, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now, int silos = 1)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return null;
        var requestShare = requestsPerMinute is { } rpm ? Math.Max(1, rpm / silos) : (int?)null;
        var tokenShare = tokensPerMinute is { } tpm ? Math.Max(1, tpm / silos) : (long?)null;
        var of = silos == 1 ? "" : $", this silo's share of the limit across {silos} silos";
        lock (_usage)
        {
            var usage = Usage(model, now);
            // Settlements may lower the count, never below nothing.
            var used = Math.Max(0, usage.Tokens);
            if (usage.Requests + 1 > requestShare) return $"rate limit: {usage.Requests} of {requestShare} requests this minute{of}";
            if (used + tokens > tokenShare) return $"rate limit: {used} + {tokens} tokens would pass {tokenShare} this minute{of}";
            usage.Add(now, tokens, request: true);
            return null;
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
