using System.ClientModel;
using System.Globalization;
using Anthropic.Exceptions;
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
        // Anthropic's SDK keeps the response's headers to itself, so its 429 has no Retry-After here: the gateway's RetryDelay applies.
        AnthropicApiException api => new ProviderException(Message(api), (int)api.StatusCode, ProviderException.KindOf((int)api.StatusCode), null, api),
        // An error event in the middle of a stream (overloaded_error, api_error, rate_limit_error): the status the type stands for.
        AnthropicSseException sse => FromErrorEvent(sse, model),
        _ when Refused(e) is { } refused => new ProviderException($"{model.Id} was not called: {refused.Message}", 502, "connection_error", null, e),
        // Not why (refused, reset, no route): told apart, those would map the network behind an endpoint. The log has it.
        ClientResultException or HttpRequestException or IOException or AnthropicIOException => new ProviderException($"{model.Id} could not be reached.", 502, "connection_error", null, e),
        // Anything else (a body the client could not read, say) is the provider's fault, not the caller's.
        _ => new ProviderException($"{model.Id} gave a response that could not be read: {e.Message}", 502, "bad_response", null, e),
    };

    /// <summary>The gateway's own refusal of the provider's address, wherever the client library wrapped it.</summary>
    private static ProviderNetworkRefusedException? Refused(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
            if (inner is ProviderNetworkRefusedException refused) return refused;
        return null;
    }

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

    private static ProviderException FromErrorEvent(AnthropicSseException e, ModelDescriptor model)
    {
        var status = e.Type?.Raw() switch
        {
            "rate_limit_error" => 429,
            "overloaded_error" => 529,
            "api_error" => 500,
            "timeout_error" => 504,
            _ => 502,
        };
        return new ProviderException($"{model.Id} sent an error event: {e.ApiMessage ?? e.Message}", status,
            status == 502 ? "bad_response" : ProviderException.KindOf(status), null, e);
    }

    /// <summary>The longest provider message a caller is shown.</summary>
    private const int MaxMessage = 300;

    // Only the provider's own error message is passed on, never its body: an endpoint aimed at something that is not a
    // provider (an internal service) must not have its answers read back through the gateway.
    private static string Message(AnthropicApiException e) =>
        $"the provider answered {(int)e.StatusCode}" + (e.ApiMessage is { Length: > 0 } message ? $" ({e.Type?.Raw() ?? "error"}: {Shortened(message)})" : ".");

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
        return $"the provider answered {e.Status}" + (ErrorMessageOf(body) is { } message ? $": {message}" : ".");
    }

    /// <summary>The <c>error.message</c> (or <c>error</c>, or <c>message</c>) of a provider's JSON error body, shortened; null for any other body.</summary>
    public static string? ErrorMessageOf(string? body)
    {
        if (string.IsNullOrWhiteSpace(body) || body.Length > 100_000) return null;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object) return null;
            var text = root.TryGetProperty("error", out var error)
                ? error.ValueKind == System.Text.Json.JsonValueKind.String ? error.GetString()
                : error.ValueKind == System.Text.Json.JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == System.Text.Json.JsonValueKind.String ? m.GetString() : null
                : root.TryGetProperty("message", out var plain) && plain.ValueKind == System.Text.Json.JsonValueKind.String ? plain.GetString() : null;
            return string.IsNullOrWhiteSpace(text) ? null : Shortened(text);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string Shortened(string text)
    {
        var flat = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return flat.Length > MaxMessage ? flat[..MaxMessage] + "…" : flat;
    }
}
