using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Kyros.Perf.Keys;
using Kyros.Perf.Silo.Auth;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Auth;

/// <summary>
/// The pages' sign-in as an attacker would try it: a session that outlives its lifetime or its sign-out, a forged or
/// altered cookie, a return address that leaves the site, guessing keys through the form, HTTP where HTTPS was meant.
/// </summary>
public sealed class SessionSecurityTests
{
    private const string Reader = "reader-key-0123456789abcdef";

    [Fact]
    public void A_session_lasts_its_lifetime_only_cannot_be_altered_and_once_signed_out_is_refused()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ring = new ApiKeyRing();
        var keys = new ApiKeys(Options.Create(new AuthOptions
        {
            Keys = [new Silo.Auth.ApiKeyOptions { Name = "read.only", Key = Reader, Scopes = ["read"] }],
            SessionLifetime = TimeSpan.FromHours(1),
        }), ring, time);
        var key = keys.Find(Reader)!;
        var first = keys.NewSession(key);
        var second = keys.NewSession(key);
        Assert.NotEqual(first.Id, second.Id);
        Assert.DoesNotContain(Reader, first.Cookie);
        Assert.Equal(time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(), first.ExpiresAt.ToUnixTimeSeconds());
        // A dotted key name round-trips.
        Assert.Equal("read.only", keys.FromSession(first.Cookie)!.Key.Name);

        // Altered: a later issue time (to extend it), another id, another name, a cut MAC: all refused.
        var parts = first.Cookie.Split('.');
        var issued = long.Parse(parts[^3]);
        Assert.Null(keys.FromSession(string.Join('.', parts[..^3].Append((issued + 3600).ToString()).Append(parts[^2]).Append(parts[^1]))));
        Assert.Null(keys.FromSession(string.Join('.', parts[..^2].Append(second.Id).Append(parts[^1]))));
        Assert.Null(keys.FromSession("ops" + first.Cookie[first.Cookie.IndexOf('.', 5)..]));
        Assert.Null(keys.FromSession(first.Cookie[..^2]));
        Assert.Null(keys.FromSession("read.only"));

        // Signed out: that session is refused wherever the directory's version reaches; the other one is not.
        var book = new ApiKeyBook(new ApiKeyDirectoryState(), new HashSet<string>(), 10);
        book.RevokeSession(first.Id, first.ExpiresAt, time.GetUtcNow());
        Assert.True(ring.Apply(book.Snapshot));
        Assert.Null(keys.FromSession(first.Cookie));
        Assert.NotNull(keys.FromSession(second.Cookie));
        Assert.Throws<ArgumentException>("sessionId", () => book.RevokeSession("NOT-HEX", first.ExpiresAt, time.GetUtcNow()));

        // Expired: refused from its instant; and the directory forgets a revocation once the session would have expired.
        time.Advance(TimeSpan.FromHours(1));
        Assert.Null(keys.FromSession(second.Cookie));
        book.RevokeSession(second.Id, second.ExpiresAt, time.GetUtcNow());
        Assert.Empty(book.Snapshot.RevokedSessions!);
    }

    [Theory]
    [InlineData("/ui/hosts?window=1h", "/ui/hosts?window=1h")]
    [InlineData("/dashboard/", "/dashboard/")]
    [InlineData("/\t/evil.example", "/ui")]
    [InlineData("/%09/evil.example", "/%09/evil.example")]
    [InlineData("//evil.example", "/ui")]
    [InlineData("/\\evil.example", "/ui")]
    [InlineData("/\\/evil.example", "/ui")]
    [InlineData("/ok\n//evil.example", "/ui")]
    [InlineData("https://evil.example/", "/ui")]
    [InlineData("javascript:alert(1)", "/ui")]
    [InlineData("", "/ui")]
    public void A_sign_in_returns_only_to_a_path_of_this_site(string target, string expected) => Assert.Equal(expected, SignInPage.Local(target));

    [Fact]
    public void Failed_sign_ins_past_the_limit_hold_that_address_until_its_minute_ends_and_no_other()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var throttle = new SignInThrottle(Options.Create(new AuthOptions { SignInAttemptsPerMinute = 3 }), time);
        var guesser = IPAddress.Parse("203.0.113.7");
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(throttle.WaitFor(guesser));
            throttle.Failed(guesser);
            time.Advance(TimeSpan.FromSeconds(10));
        }
        Assert.Equal(TimeSpan.FromSeconds(30), throttle.WaitFor(guesser));
        // The same client seen as IPv4 mapped into IPv6 is the same client.
        Assert.Equal(TimeSpan.FromSeconds(30), throttle.WaitFor(guesser.MapToIPv6()));
        Assert.Null(throttle.WaitFor(IPAddress.Parse("203.0.113.8")));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(throttle.WaitFor(guesser));
    }

    [Fact]
    public async Task Over_https_the_cookie_is_secure_and_expires_a_sign_out_ends_it_everywhere_and_guessing_is_throttled()
    {
        var certificates = Directory.CreateTempSubdirectory("kyros-https-").FullName;
        using var certificate = SelfSigned(out var certificatePath, out var keyPath, certificates);
        var url = $"https://127.0.0.1:{FreePort.Next()}";
        await using var silo = await HttpSilo.StartAsync(null,
        [
            "--Kyros:Auth:Keys:0:Name=dashboards", $"--Kyros:Auth:Keys:0:Key={Reader}", "--Kyros:Auth:Keys:0:Scopes:0=read",
            "--Kyros:Auth:SignInAttemptsPerMinute=3", $"--Kyros:HttpUrl={url}",
            $"--Kestrel:Certificates:Default:Path={certificatePath}", $"--Kestrel:Certificates:Default:KeyPath={keyPath}",
        ]);
        using var handler = new HttpClientHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            // Trust exactly the silo's certificate, nothing else.
            ServerCertificateCustomValidationCallback = (_, presented, _, _) => presented?.Thumbprint == certificate.Thumbprint,
        };
        using var browser = new HttpClient(handler) { BaseAddress = new Uri(url) };

        using var signIn = await browser.PostAsync("/signin", Form(Reader));
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var setCookie = signIn.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("; secure", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("; expires=", setCookie, StringComparison.OrdinalIgnoreCase);
        var cookie = setCookie[..setCookie.IndexOf(';')];

        using (var api = await Get(browser, "/v1/models", cookie)) Assert.Equal(HttpStatusCode.OK, api.StatusCode);
        using (var signOut = new HttpRequestMessage(HttpMethod.Post, "/signout"))
        {
            signOut.Headers.Add("Cookie", cookie);
            using var answer = await browser.SendAsync(signOut);
            Assert.Equal(HttpStatusCode.Redirect, answer.StatusCode);
        }
        // The same cookie, kept by an attacker who copied it: refused.
        using (var api = await Get(browser, "/v1/models", cookie)) Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);

        // Guessing: the fourth wrong key in a minute is 429 with Retry-After, and so is the right one meanwhile.
        for (var i = 0; i < 3; i++)
            using (var wrong = await browser.PostAsync("/signin", Form($"guess-{i}-0123456789abcdef"))) Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (var throttled = await browser.PostAsync("/signin", Form("guess-3-0123456789abcdef")))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
            Assert.InRange(throttled.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
        }
        using (var right = await browser.PostAsync("/signin", Form(Reader))) Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        // A key in a header is not held back by the form's throttle.
        using (var bearer = new HttpRequestMessage(HttpMethod.Get, "/v1/models"))
        {
            bearer.Headers.Authorization = new("Bearer", Reader);
            using var answer = await browser.SendAsync(bearer);
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.9.8.7", false)]
    public async Task Behind_a_proxy_the_cookie_is_secure_only_when_that_proxy_is_trusted(string trusted, bool secure)
    {
        await using var silo = await HttpSilo.StartAsync(null,
        [
            "--Kyros:Auth:Keys:0:Name=dashboards", $"--Kyros:Auth:Keys:0:Key={Reader}", "--Kyros:Auth:Keys:0:Scopes:0=read",
            $"--Kyros:Auth:TrustedProxies:0={trusted}",
        ]);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/signin") { Content = Form(Reader) };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", "198.51.100.20");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = silo.Http.BaseAddress };
        using var signIn = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var setCookie = signIn.Headers.GetValues("Set-Cookie").Single();
        Assert.Equal(secure, setCookie.Contains("; secure", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Session_settings_out_of_range_and_a_proxy_that_is_no_address_stop_the_silo_naming_the_setting()
    {
        var failures = new AuthOptionsValidator().Validate(null, new AuthOptions
        {
            SessionLifetime = TimeSpan.FromSeconds(5), SignInAttemptsPerMinute = 0, TrustedProxies = ["10.0.0.0/8", "proxy.internal"],
        }).Failures!.ToList();
        Assert.Contains(failures, f => f.StartsWith("Kyros:Auth:SessionLifetime must be", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kyros:Auth:SignInAttemptsPerMinute must be", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Kyros:Auth:TrustedProxies:1 'proxy.internal'", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains("TrustedProxies:0", StringComparison.Ordinal));
    }

    private static FormUrlEncodedContent Form(string key) => new(new Dictionary<string, string> { ["key"] = key, ["return"] = "/ui" });

    private static Task<HttpResponseMessage> Get(HttpClient http, string path, string cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("Cookie", cookie);
        return http.SendAsync(request);
    }

    /// <summary>A certificate for 127.0.0.1, written as PEM files for Kestrel.</summary>
    private static X509Certificate2 SelfSigned(out string certificatePath, out string keyPath, string directory)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        certificatePath = Path.Combine(directory, "tls.crt");
        keyPath = Path.Combine(directory, "tls.key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return certificate;
    }
}
