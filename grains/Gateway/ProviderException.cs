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

    /// <summary>Rate limits, server errors and timeouts may pass on a retry or on another model; other 4xx are the request's fault.</summary>
    public bool Retryable => Status is 408 or 429 or >= 500;

    public static ProviderException Timeout(string model, TimeSpan after) =>
        new($"{model} did not answer within {after.TotalSeconds:0.###} s.", 408, "timeout");

    public static string KindOf(int status) => status switch
    {
        408 => "timeout",
        429 => "rate_limit",
        >= 500 => "server_error",
        _ => "invalid_request",
    };
}
