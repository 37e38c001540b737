namespace Kyros.Perf.Common;

/// <summary>
/// A fault outside the caller's control that passes: a silo that died or left, a message rejected or timed out, a store
/// (Redis, SQLite) down, hung or locked. Crossing the wire it carries only its message (a store's own exception types
/// have no Orleans codec). HTTP answers 503 with <c>Retry-After</c>; the SDK throws it once its retries are spent.
/// </summary>
[GenerateSerializer, Alias("kyros.KyrosUnavailableException")]
public sealed class KyrosUnavailableException : Exception
{
    /// <summary>What a caller should wait before trying again.</summary>
    public const int RetryAfterSeconds = 1;

    public KyrosUnavailableException(string message) : base(message)
    {
    }

    /// <summary>On the caller's side only: the cause stays with it for the caller's logs, and never crosses the wire.</summary>
    public KyrosUnavailableException(string message, Exception cause) : base(message, cause)
    {
    }
}
