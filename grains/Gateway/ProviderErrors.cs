using System.ClientModel;
using System.Globalization;
using Kyros.Perf.Catalog;

namespace Kyros.Perf.Gateway;

/// <summary>Turns whatever a provider's call threw into the gateway's terms. Total: it never throws itself.</summary>
public static class ProviderErrors
{
    /// <summary>The longest wait a Retry-After may ask for before it is taken as "not soon".</summary>
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromDays(1);

    /// <param name="timeout">The timeout the call was given: the catalog's, or the tuner's.</param>
    public static ProviderException Classify(Exception e, ModelDescriptor model, TimeSpan timeout, DateTimeOffset now) => e switch
    {
        ProviderException provider => provider,
        // Not the caller's cancellation (checked before): the model's timeout, ours or the HTTP client's.
        OperationCanceledException => ProviderException.Timeout(model.Id, timeout),
        ClientResultException { Status: > 0 } client => new ProviderException(Message(client), client.Status, ProviderException.KindOf(client.Status),
            client.GetRawResponse()?.Headers.TryGetValue("Retry-After", out var after) == true ? RetryAfter(after, now) : null, client),
        ClientResultException or HttpRequestException or IOException => new ProviderException($"{model.Id} could not be reached: {e.Message}", 502, "connection_error", null, e),
        // Anything else (a body the client could not read, say) is the provider's fault, not the caller's.
        _ => new ProviderException($"{model.Id} gave a response that could not be read: {e.Message}", 502, "bad_response", null, e),
    };

    /// <summary>Retry-After as seconds or an HTTP date, relative to <paramref name="now"/>; null when unreadable, never negative.</summary>
    public static TimeSpan? RetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds))
            return seconds <= 0 ? TimeSpan.Zero : seconds >= MaxRetryAfter.TotalSeconds ? MaxRetryAfter : TimeSpan.FromSeconds(seconds);
        if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
        {
            var wait = at - now;
            return wait <= TimeSpan.Zero ? TimeSpan.Zero : wait >= MaxRetryAfter ? MaxRetryAfter : wait;
        }
        return null;
    }

    private static string Message(ClientResultException e)
    {
        string? body;
        try
        {
            body = e.GetRawResponse()?.Content?.ToString();
        }
        catch (Exception read) when (read is InvalidOperationException or ObjectDisposedException)
        {
            body = null;
        }
        return string.IsNullOrWhiteSpace(body) ? e.Message : body.Length > 2000 ? body[..2000] : body;
    }
}
