using System.Globalization;
using System.Text.Json;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Anthropic's SDK keeps a failed response's headers to itself, so its exception carries no wait. Between the SDK and
/// the HTTP client (one of the SDK's <c>Handlers</c>), this turns a 429 or 5xx that says how long to wait (<c>retry-after-ms</c> or <c>Retry-After</c>)
/// into the gateway's <see cref="ProviderException"/> with that wait and the provider's message; the SDK and its adapter
/// pass it through. A failure without a wait goes on to the SDK, whose exception <see cref="ProviderErrors"/> classifies.
/// </summary>
public sealed class AnthropicRetryAfterHandler(string model, TimeProvider time) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var status = (int)response.StatusCode;
        if (status is not (429 or >= 500) || WaitOf(response) is not { } wait) return response;
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new ProviderException($"{model} answered {status}: {MessageOf(body)}", status, ProviderException.KindOf(status), wait);
        }
    }

    private TimeSpan? WaitOf(HttpResponseMessage response)
    {
        if (response.Headers.TryGetValues("retry-after-ms", out var ms)
            && double.TryParse(ms.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
            return ProviderErrors.RetryAfter((milliseconds / 1000).ToString(CultureInfo.InvariantCulture), time.GetUtcNow());
        return response.Headers.TryGetValues("Retry-After", out var after) ? ProviderErrors.RetryAfter(after.FirstOrDefault(), time.GetUtcNow()) : null;
    }

    /// <summary>Anthropic's <c>error.message</c>, or the body as it came (cut short) when it is not their error shape.</summary>
    private static string MessageOf(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String)
                return message.GetString()!;
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page, say): the text itself.
        }
        return body.Length > 2000 ? body[..2000] : body;
    }
}
