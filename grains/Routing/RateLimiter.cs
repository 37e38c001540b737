namespace Kyros.Perf.Routing;

/// <summary>
/// Requests and tokens per model over the last minute, reserved at decision time and settled when the real token
/// count is known. Thread-safe; one per silo, so a catalog limit is enforced per silo.
/// </summary>
public sealed class RateLimiter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, Queue<(DateTimeOffset At, long Tokens, bool Request)>> _usage = new(StringComparer.Ordinal);

    /// <summary>Reserves one request and <paramref name="tokens"/>, or says which limit is spent.</summary>
    public string? TryReserve(string model, long tokens, int? requestsPerMinute, long? tokensPerMinute, DateTimeOffset now)
    {
        if (requestsPerMinute is null && tokensPerMinute is null) return null;
        lock (_usage)
        {
            var usage = Usage(model, now);
            var requests = usage.Count(u => u.Request);
            // Settlements may lower the count, never below nothing.
            var used = Math.Max(0, usage.Sum(u => u.Tokens));
            if (requests + 1 > requestsPerMinute) return $"rate limit: {requests} of {requestsPerMinute} requests this minute";
            if (used + tokens > tokensPerMinute) return $"rate limit: {used} + {tokens} tokens would pass {tokensPerMinute} this minute";
            usage.Enqueue((now, tokens, true));
            return null;
        }
    }

    /// <summary>Replaces a reservation's tokens with what the request used.</summary>
    public void Settle(string model, long reservedTokens, long actualTokens, DateTimeOffset now)
    {
        lock (_usage) Usage(model, now).Enqueue((now, actualTokens - reservedTokens, false));
    }

    private Queue<(DateTimeOffset At, long Tokens, bool Request)> Usage(string model, DateTimeOffset now)
    {
        if (!_usage.TryGetValue(model, out var usage)) _usage[model] = usage = new();
        while (usage.Count > 0 && usage.Peek().At <= now - Window) usage.Dequeue();
        return usage;
    }
}
