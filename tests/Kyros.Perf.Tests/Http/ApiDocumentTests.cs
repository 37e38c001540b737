using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Kyros.Perf.Tests.Http;

/// <summary>The OpenAPI document against what the silo really maps and answers.</summary>
public sealed class ApiDocumentTests
{
    [Fact]
    public async Task Every_mapped_endpoint_is_documented_with_its_scope_and_errors_and_every_documented_path_answers()
    {
        await using var silo = await HttpSilo.StartAsync();
        var document = await silo.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        var documented = paths.EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(m => (Method: m.Name.ToUpperInvariant(), Path: p.Name, Operation: m.Value)))
            .ToList();

        // Every route the silo maps (but the dashboard's own and the document itself) is in the document.
        var mapped = silo.Services.GetServices<EndpointDataSource>().SelectMany(s => s.Endpoints).OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && !raw.StartsWith("/dashboard", StringComparison.Ordinal) && !raw.StartsWith("/openapi", StringComparison.Ordinal)
                        && !raw.StartsWith("/docs/", StringComparison.Ordinal) && !raw.StartsWith("/ui", StringComparison.Ordinal) && raw != "/")
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Path: Normalize(e.RoutePattern.RawText!))))
            .Distinct().ToList();
        Assert.True(mapped.Count > 40, $"only {mapped.Count} routes found");
        foreach (var (method, path) in mapped)
            Assert.True(documented.Any(d => d.Method == method && d.Path == path), $"{method} {path} is mapped but not documented");

        // Each operation names its scope and the errors it can answer; bodies and answers have their shapes where declared.
        foreach (var (method, path, operation) in documented)
        {
            var scope = operation.GetProperty("x-kyros-scope").GetString();
            Assert.Contains(scope, new[] { "none", "read", "write", "admin" });
            // Every GET needs read, but the keys' (who may call, with what): admin.
            if (method == "GET" && path is not ("/healthz" or "/signin")) Assert.Equal(path.StartsWith("/v1/keys", StringComparison.Ordinal) ? "admin" : "read", scope);
            var responses = operation.GetProperty("responses");
            Assert.True(responses.TryGetProperty("400", out _) && responses.TryGetProperty("503", out _), $"{method} {path} lacks its errors");
            if (scope != "none") Assert.True(responses.TryGetProperty("401", out _) && responses.TryGetProperty("403", out _), $"{method} {path} lacks 401/403");
        }
        Assert.Equal("write", Operation(paths, "/v1/performance/records", "post").GetProperty("x-kyros-scope").GetString());
        Assert.Equal("admin", Operation(paths, "/v1/models/{id}", "put").GetProperty("x-kyros-scope").GetString());
        Assert.True(Operation(paths, "/v1/models", "post").TryGetProperty("requestBody", out _));
        Assert.Equal("admin", Operation(paths, "/v1/keys", "get").GetProperty("x-kyros-scope").GetString());
        Assert.True(Operation(paths, "/v1/keys", "post").TryGetProperty("requestBody", out _));
        Assert.True(Operation(paths, "/v1/keys/{id}", "patch").GetProperty("responses").TryGetProperty("412", out _));
        Assert.True(Operation(paths, "/v1/models/{id}", "put").GetProperty("responses").TryGetProperty("412", out _));
        Assert.Contains("\"input_price_per1k\"", document.GetProperty("components").GetRawText());

        // Every documented path answers from its own endpoint: a result or a problem+json, never an unrouted 404, a 405 or a 500.
        foreach (var (method, path, _) in documented)
        {
            var url = path.Replace("{model}", "gpt-4").Replace("{id}", "no-such-id").Replace("{node}", "test-silo").Replace("{metric}", "cpu");
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method != "GET") request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            // Headers only: an event stream answers at once and never ends.
            using var response = await silo.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            var status = (int)response.StatusCode;
            Assert.True(status is < 500 or 502 or 503 or 504 && status != 405, $"{method} {url}: {status}");
            if (status is 404 or 400)
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task The_api_reference_page_is_served_with_its_script_from_the_silo_itself()
    {
        await using var silo = await HttpSilo.StartAsync();
        var page = await silo.Http.GetStringAsync("/docs/api");
        // The page reads the silo's own document (resolved against the site's root).
        Assert.Contains("\"url\":\"openapi/v1.json\"", page);
        var scripts = System.Text.RegularExpressions.Regex.Matches(page, "<script[^>]*src=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        foreach (var script in scripts)
        {
            Assert.False(Uri.TryCreate(script, UriKind.Absolute, out var absolute) && absolute.Scheme is "http" or "https" && absolute.Host != "127.0.0.1",
                $"the page fetches {script} from elsewhere");
            using var response = await silo.Http.GetAsync(new Uri(new Uri(silo.Http.BaseAddress!, "/docs/api/"), script));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static JsonElement Operation(JsonElement paths, string path, string method) => paths.GetProperty(path).GetProperty(method);

    /// <summary>A route as OpenAPI writes it: catch-all parameters lose their stars.</summary>
    private static string Normalize(string route) => route.Replace("{**", "{").Replace("{*", "{") is var r && r.Length > 1 ? r.TrimEnd('/') : route;
}
