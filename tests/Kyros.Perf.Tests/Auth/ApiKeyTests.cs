using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Silo.Auth;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Auth;

/// <summary>API keys on a real silo over HTTP: what a caller without a key, with a wrong one, or with too small a scope receives.</summary>
public sealed class ApiKeyTests
{
    private const string Reader = "reader-key-0123456789abcdef";
    private const string Writer = "writer-key-0123456789abcdef";
    private const string Operator = "operator-key-0123456789abcdef";
    private const string Limited = "limited-key-0123456789abcdef";

    private static Task<HttpSilo> StartAsync(params string[] more) => HttpSilo.StartAsync(null,
    [
        "--Kyros:Auth:Keys:0:Name=dashboards", $"--Kyros:Auth:Keys:0:Key={Reader}", "--Kyros:Auth:Keys:0:Scopes:0=read",
        "--Kyros:Auth:Keys:1:Name=ingest", $"--Kyros:Auth:Keys:1:Key={Writer}", "--Kyros:Auth:Keys:1:Scopes:0=write",
        "--Kyros:Auth:Keys:2:Name=ops", $"--Kyros:Auth:Keys:2:Key={Operator}", "--Kyros:Auth:Keys:2:Scopes:0=read", "--Kyros:Auth:Keys:2:Scopes:1=write",
        "--Kyros:Auth:Keys:2:Scopes:2=admin",
        "--Kyros:Auth:Keys:3:Name=metered", $"--Kyros:Auth:Keys:3:Key={Limited}", "--Kyros:Auth:Keys:3:Scopes:0=read", "--Kyros:Auth:Keys:3:RequestsPerMinute=3",
        .. more,
    ]);

    [Fact]
    public async Task Each_request_needs_a_key_with_its_scope_and_the_answers_name_what_is_missing()
    {
        await using var silo = await StartAsync();
        var http = silo.Http;

        // No key, a wrong key: 401 problem+json naming Authorization, with a challenge; the key is never echoed.
        using (var none = await http.GetAsync("/v1/models"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Equal("Authorization", (await none.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        using (var wrong = await Send(http, HttpMethod.Get, "/v1/models", "not-a-key-at-all-0000000"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.DoesNotContain("not-a-key-at-all", await wrong.Content.ReadAsStringAsync());
        }

        // read reads; it cannot record. write records (Bearer or x-api-key); it cannot change the catalog. admin can.
        using (var read = await Send(http, HttpMethod.Get, "/v1/models", Reader)) Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var forbidden = await Send(http, HttpMethod.Post, "/v1/performance/records", Reader, Record("a")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            Assert.Contains("lacks the 'write' scope", (await forbidden.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        }
        using (var recorded = await Send(http, HttpMethod.Post, "/v1/performance/records", Writer, Record("b"))) Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        using (var viaHeader = new HttpRequestMessage(HttpMethod.Post, "/v1/performance/records") { Content = JsonContent.Create(Record("c")) })
        {
            viaHeader.Headers.Add("x-api-key", Writer);
            using var response = await http.SendAsync(viaHeader);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        using (var writerCannotRead = await Send(http, HttpMethod.Get, "/v1/models", Writer)) Assert.Equal(HttpStatusCode.Forbidden, writerCannotRead.StatusCode);
        var model = new { id = "keyed-model", provider = "simulated" };
        using (var notAdmin = await Send(http, HttpMethod.Post, "/v1/models", Writer, model)) Assert.Equal(HttpStatusCode.Forbidden, notAdmin.StatusCode);
        using (var admin = await Send(http, HttpMethod.Post, "/v1/models", Operator, model)) Assert.Equal(HttpStatusCode.Created, admin.StatusCode);
        using (var thresholds = await Send(http, HttpMethod.Put, "/v1/resources/thresholds/cpu", Writer, new { warning = 80, critical = 90, emergency = 95 }))
            Assert.Equal(HttpStatusCode.Forbidden, thresholds.StatusCode);

        // The change history names the key, never the key itself.
        using (var changes = await Send(http, HttpMethod.Get, "/v1/models/changes", Operator))
        {
            var text = await changes.Content.ReadAsStringAsync();
            Assert.Contains("\"actor\":\"key ops\"", text);
            Assert.DoesNotContain(Operator, text);
        }

        // OpenAI clients read error.message: the 401 on chat completions carries it.
        using (var chat = await Send(http, HttpMethod.Post, "/v1/chat/completions", null, new { model = "auto", messages = new[] { new { role = "user", content = "hi" } } }))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, chat.StatusCode);
            var error = (await chat.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
            Assert.Equal("invalid_api_key", error.GetProperty("code").GetString());
            Assert.Contains("API key is required", error.GetProperty("message").GetString());
        }

        // /healthz stays open; /metrics needs read.
        using (var health = await http.GetAsync("/healthz")) Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using (var metrics = await http.GetAsync("/metrics")) Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
        using (var metrics = await Send(http, HttpMethod.Get, "/metrics", Reader)) Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);

        // A key over its rate: 429 with Retry-After; other keys are not held back.
        for (var i = 0; i < 3; i++)
            using (var ok = await Send(http, HttpMethod.Get, "/v1/models", Limited)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using (var limited = await Send(http, HttpMethod.Get, "/v1/models", Limited))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
            Assert.True(limited.Headers.RetryAfter!.Delta > TimeSpan.Zero);
        }
        using (var other = await Send(http, HttpMethod.Get, "/v1/models", Reader)) Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task A_browser_signs_in_once_and_its_cookie_opens_the_dashboard_for_an_admin_only_without_holding_the_key()
    {
        await using var silo = await StartAsync("--Kyros:Dashboard=true", "--Kyros:Auth:OpenMetrics=true");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true, CookieContainer = new CookieContainer() })
        {
            BaseAddress = silo.Http.BaseAddress,
        };
        using (var dashboard = await browser.GetAsync("/dashboard"))
        {
            Assert.Equal(HttpStatusCode.Redirect, dashboard.StatusCode);
            Assert.StartsWith("/signin?return=", dashboard.Headers.Location!.OriginalString);
        }
        using (var wrong = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = "wrong-key-0123456789", ["return"] = "/dashboard" })))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var signIn = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = Reader, ["return"] = "https://elsewhere.example/" }));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        // A return address off the site is not followed: the product's pages instead.
        Assert.Equal("/ui", signIn.Headers.Location!.OriginalString);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Reader, cookie);
        // The dashboard shows grain state and the silo's live log: not for a read key.
        using (var dashboard = await browser.GetAsync("/dashboard/")) Assert.Equal(HttpStatusCode.Forbidden, dashboard.StatusCode);
        using (var api = await browser.GetAsync("/v1/models")) Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        // The cookie carries read only: it cannot record.
        using (var post = await browser.PostAsJsonAsync("/v1/performance/records", Record("d"))) Assert.Equal(HttpStatusCode.Forbidden, post.StatusCode);
        using (var admin = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["key"] = Operator, ["return"] = "/dashboard/" })))
            Assert.Equal("/dashboard/", admin.Headers.Location!.OriginalString);
        using (var dashboard = await browser.GetAsync("/dashboard/")) Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        // Its live log stream is off unless Kyros:DashboardTrace says otherwise, even for an admin.
        using (var trace = await browser.GetAsync("/dashboard/Trace"))
            Assert.Contains("disabled", await trace.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        // OpenMetrics: Prometheus scrapes without a key.
        using (var metrics = await silo.Http.GetAsync("/metrics")) Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
    }

    [Fact]
    public void Keys_with_an_unknown_scope_an_empty_key_or_none_beyond_loopback_stop_the_silo_naming_the_setting()
    {
        var options = new AuthOptions
        {
            Keys = [new ApiKeyOptions { Name = "a", Key = "", Scopes = ["read"] }, new ApiKeyOptions { Name = "b", Key = "0123456789abcdef0", Scopes = ["superuser"] }],
        };
        var failures = new AuthOptionsValidator().Validate(null, options).Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Kyros:Auth:Keys:0:Key must be", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kyros:Auth:Keys:1:Scopes 'superuser' is not a scope", StringComparison.Ordinal));

        Assert.Null(AuthOptionsValidator.RefuseOpenListening(new AuthOptions(), ["http://127.0.0.1:5080", "http://localhost:5081", "http://[::1]:5082"]));
        Assert.StartsWith("Kyros:Auth:Keys: none are configured", AuthOptionsValidator.RefuseOpenListening(new AuthOptions(), ["http://0.0.0.0:5080"]));
        Assert.Null(AuthOptionsValidator.RefuseOpenListening(new AuthOptions { AllowAnonymous = true }, ["http://0.0.0.0:5080"]));

        // The silo itself refuses to build (the process exits 2 with these lines).
        // Beyond loopback a key must be a generated one: no placeholder, at least 32 characters; on loopback a short one is fine.
        var weak = new AuthOptions { Keys = [new ApiKeyOptions { Name = "a", Key = "sixteen-chars-ok-0123", Scopes = ["read"] }, new ApiKeyOptions { Name = "b", Key = "replace-with-a-generated-key-0000000000", Scopes = ["read"] }] };
        Assert.Empty(AuthOptionsValidator.RefuseWeakKeys(weak, ["http://127.0.0.1:5080"]));
        Assert.Collection(AuthOptionsValidator.RefuseWeakKeys(weak, ["http://0.0.0.0:5080"]),
            f => Assert.StartsWith("Kyros:Auth:Keys:0:Key is under 32 characters", f),
            f => Assert.StartsWith("Kyros:Auth:Keys:1:Key is a placeholder", f));
        Assert.DoesNotContain(AuthOptionsValidator.RefuseWeakKeys(weak, ["http://0.0.0.0:5080"]), f => f.Contains("sixteen-chars", StringComparison.Ordinal) || f.Contains("0000000000", StringComparison.Ordinal));
        var placeholder = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Kyros.Perf.Silo.KyrosSiloHost.Build(
            ["--Kyros:HttpUrl=http://0.0.0.0:5998", "--Kyros:Auth:Keys:0:Name=ops", "--Kyros:Auth:Keys:0:Key=replace-with-a-generated-key", "--Kyros:Auth:Keys:0:Scopes:0=admin"]));
        Assert.Contains(placeholder.Failures, f => f.StartsWith("Kyros:Auth:Keys:0:Key is a placeholder", StringComparison.Ordinal));
        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Kyros.Perf.Silo.KyrosSiloHost.Build(["--Kyros:HttpUrl=http://0.0.0.0:5999"]));
        Assert.Contains(refused.Failures, f => f.StartsWith("Kyros:Auth:Keys: none are configured and the silo listens on http://0.0.0.0:5999", StringComparison.Ordinal));
        refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Kyros.Perf.Silo.KyrosSiloHost.Build(
            ["--Kyros:Auth:Keys:0:Name=x", "--Kyros:Auth:Keys:0:Key=short", "--Kyros:Auth:Keys:0:Scopes:0=read"]));
        Assert.Contains(refused.Failures, f => f.StartsWith("Kyros:Auth:Keys:0:Key must be at least 16 characters", StringComparison.Ordinal));
        Assert.DoesNotContain(refused.Failures, f => f.Contains("short"));
    }

    private static object Record(string id) => new { model = "gpt-4", execution_time = 1.0, request_id = $"auth-{id}-{Guid.NewGuid():N}" };

    private static async Task<HttpResponseMessage> Send(HttpClient http, HttpMethod method, string path, string? key, object? body = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (body is not null) request.Content = JsonContent.Create(body);
        return await http.SendAsync(request);
    }
}
