using System.Net;
using System.Text;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>The outcome of one post: a 2xx, or why not, summarised without the target's URL.</summary>
public sealed record NotificationPostResult(bool Delivered, string? Error)
{
    public static readonly NotificationPostResult Ok = new(true, null);
}

/// <summary>
/// Posts notification bodies: one connection pool for every target, a timeout per post, and no redirects (a redirect
/// would send an alert, and a Slack token's path, wherever the target points). Never throws for the target's faults.
/// </summary>
public sealed class NotificationSender : IDisposable
{
    public const string IdempotencyHeader = "Idempotency-Key";
    /// <summary>Which try this post is at the entry (1 the first): a receiver sees a re-send as such.</summary>
    public const string AttemptHeader = "X-Kyros-Delivery-Attempt";

    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public NotificationSender(IOptions<NotificationOptions> options)
    {
        _timeout = options.Value.RequestTimeout;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = _timeout,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("kyros-perf-notifications/1");
    }

    public async Task<NotificationPostResult> PostAsync(Uri url, string json, string? idempotencyKey, int attempt, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (idempotencyKey is not null) request.Headers.Add(IdempotencyHeader, idempotencyKey);
        request.Headers.Add(AttemptHeader, attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (response.IsSuccessStatusCode) return NotificationPostResult.Ok;
            var status = (int)response.StatusCode;
            return new NotificationPostResult(false, status is >= 300 and < 400
                ? $"HTTP {status}: redirects are not followed"
                : $"HTTP {status} {ReasonOf(response.StatusCode)}".TrimEnd());
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new NotificationPostResult(false, $"timed out after {_timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            // The message can name the host (and a URL): only the kind of failure is kept.
            return new NotificationPostResult(false, e.HttpRequestError switch
            {
                HttpRequestError.ConnectionError => "connection failed",
                HttpRequestError.NameResolutionError => "name resolution failed",
                HttpRequestError.SecureConnectionError => "TLS handshake failed",
                HttpRequestError.ResponseEnded => "the connection closed before the response",
                _ => $"request failed ({e.HttpRequestError})",
            });
        }
    }

    private static string ReasonOf(HttpStatusCode status) => Enum.IsDefined(status) ? status.ToString() : "";

    public void Dispose() => _http.Dispose();
}
