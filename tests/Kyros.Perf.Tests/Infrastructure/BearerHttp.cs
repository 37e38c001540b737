using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>HTTP calls to a silo, each with the API key it is given: for tests that act as several keys at once.</summary>
public sealed class BearerHttp : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task<HttpResponseMessage> Send(HttpMethod method, string url, string key, object? body = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await _http.SendAsync(request);
    }

    public async Task<HttpStatusCode> Status(HttpMethod method, string url, string key, object? body = null)
    {
        using var response = await Send(method, url, key, body);
        return response.StatusCode;
    }

    /// <summary>The answer's JSON; the test fails on any status but success, naming the call and the answer.</summary>
    public async Task<JsonElement> Json(HttpMethod method, string url, string key, object? body = null)
    {
        using var response = await Send(method, url, key, body);
        Assert.True(response.IsSuccessStatusCode, $"{method} {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public void Dispose() => _http.Dispose();
}
