namespace Kyros.Perf.Gateway;

/// <summary>
/// A provider's failure in the gateway's terms: the HTTP status it answered (408 for a timeout), the error kind recorded
/// in the model's statistics, and the wait it asked for.
/// </summary>
public sealed class ProviderException(string message, int status, string errorKind, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    public int Status { get; } = status;
    public string ErrorKind { get; } = errorKind;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>Rate limits and server errors may pass on a retry of the same model (a timeout moves on to the next).</summary>
    public bool Retryable => Status is 429 or >= 500;

    /// <summary>The request's own fault (malformed, too long, unprocessable): passed back, no other model tried. Other 4xx (401, 403, 404) are ours: fall back.</summary>
    public bool CallersFault => Status is 400 or 413 or 422;

    public static ProviderException Timeout(string model, TimeSpan after) =>
        new($"{model} did not answer within {after.TotalSeconds:0.###} s.", 408, "timeout");

    public static string KindOf(int status) => status switch
    {
        408 => "timeout",
        429 => "rate_limit",
        >= 500 => "server_error",
        400 or 413 or 422 => "invalid_request",
        _ => "provider_error",
    };
}
