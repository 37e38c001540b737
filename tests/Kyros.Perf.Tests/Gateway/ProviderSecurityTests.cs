using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Gateway;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// What an admin key cannot make the gateway do with the silo's secrets and network: name a secret that is not a
/// provider's, keep a key while re-pointing its model, follow a redirect, reach a network it is not allowed, or read a
/// non-provider's answer back.
/// </summary>
public sealed class ProviderSecurityTests
{
    private const string Variable = "KYROS_PROVIDER_TEST_SECURITY_KEY";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Chat(string model) => $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task Keys_reach_only_the_host_they_were_given_for_secrets_of_the_silo_cannot_be_named_and_redirects_are_not_followed()
    {
        Environment.SetEnvironmentVariable(Variable, "variable-secret");
        await using var home = await OpenAiTestServer.StartAsync();
        await using var elsewhere = await OpenAiTestServer.StartAsync();
        await using var redirector = await RedirectorAsync(elsewhere.BaseUrl + "/chat/completions");
        string[] models = ["keyed", "by-variable", "redirected"];
        var args = new List<string> { "--Kyros:Gateway:RetryDelay=00:00:00.010", "--Kyros:Gateway:ApiKeys:keyed=configured-secret" };
        for (var i = 0; i < models.Length; i++)
        {
            var at = $"--Kyros:Catalog:Models:{i}:";
            args.AddRange([$"{at}Id={models[i]}", $"{at}Provider=openai-compatible", $"{at}Endpoint={(models[i] == "redirected" ? redirector.Url + "/v1" : home.BaseUrl)}"]);
        }
        args.Add($"--Kyros:Catalog:Models:1:ApiKeyVariable={Variable}");
        await using var silo = await HttpSilo.StartAsync(null, null, [.. args]);
        var http = silo.Http;

        // At home, each model's own key.
        foreach (var model in new[] { "keyed", "by-variable" })
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/v1/chat/completions", Json(Chat(model)))).StatusCode);
        Assert.Equal(["Bearer configured-secret", "Bearer variable-secret"], home.Authorizations.Select(a => a.Authorization));

        // Re-pointed elsewhere, neither key goes with the model.
        foreach (var model in new[] { "keyed", "by-variable" })
        {
            using var patched = await http.PatchAsync($"/v1/models/{model}", Json($$"""{"endpoint":"{{elsewhere.BaseUrl}}"}"""));
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            Assert.True((await patched.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("api_key_variable").ValueKind is JsonValueKind.Null or JsonValueKind.Undefined);
        }
        await Eventually.UntilAsync(async () =>
        {
            foreach (var model in new[] { "keyed", "by-variable" }) await http.PostAsync("/v1/chat/completions", Json(Chat(model)));
            return elsewhere.Authorizations.Select(a => a.Model).Distinct().Count();
        }, n => n == 2);
        Assert.All(elsewhere.Authorizations, a => Assert.Equal("Bearer none", a.Authorization));
        // Named again with the new endpoint, the variable's key is sent there: the admin chose it.
        using (var again = await http.PatchAsync("/v1/models/by-variable", Json($$"""{"api_key_variable":"{{Variable}}"}""")))
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        await Eventually.UntilAsync(async () =>
        {
            await http.PostAsync("/v1/chat/completions", Json(Chat("by-variable")));
            return elsewhere.Authorizations.Last();
        }, a => a.Authorization == "Bearer variable-secret");

        // The silo's own secrets cannot be named: 400 naming the field, nothing stored.
        foreach (var secret in new[] { "Kyros__Redis", "Kyros__Auth__Keys__0__Key", "OPENAI_API_KEY", "KYROS_PROVIDER_" })
        {
            using var refused = await http.PostAsync("/v1/models", Json($$"""{"id":"thief","provider":"openai-compatible","endpoint":"{{elsewhere.BaseUrl}}","api_key_variable":"{{secret}}"}"""));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal("api_key_variable", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/v1/models/thief")).StatusCode);

        // A redirect is an answer, not a path to follow: the host it names never hears of the call.
        var before = elsewhere.TotalCalls;
        using var redirected = await http.PostAsync("/v1/chat/completions", Json(Chat("redirected")));
        Assert.Equal(HttpStatusCode.BadGateway, redirected.StatusCode);
        Assert.Equal(1, redirector.Hits);
        Assert.Equal(before, elsewhere.TotalCalls);
        // And what the non-provider answered is not read back to the caller.
        Assert.DoesNotContain("internal-service-page", await redirected.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_provider_on_a_network_not_allowed_is_never_connected_to_and_the_caller_is_told_why()
    {
        await using var backend = await OpenAiTestServer.StartAsync();
        // Loopback is allowed by default (a local server beside the silo); here it is not, and a documentation network is.
        await using var silo = await HttpSilo.StartAsync(null, (Action<WebApplicationBuilder>?)null, "--Kyros:Gateway:AllowLoopbackProviders=false", "--Kyros:Gateway:AllowedProviderNetworks:0=203.0.113.0/24",
            "--Kyros:Catalog:Models:0:Id=inside", "--Kyros:Catalog:Models:0:Provider=openai-compatible", $"--Kyros:Catalog:Models:0:Endpoint={backend.BaseUrl}");
        using var refused = await silo.Http.PostAsync("/v1/chat/completions", Json(Chat("inside")));
        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Contains("AllowedProviderNetworks", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, backend.TotalCalls);
    }

    [Theory]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("172.31.255.255", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("169.254.169.254", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("0.0.0.0", false)]
    [InlineData("fd00::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("8.8.8.8", true)]
    [InlineData("172.32.0.1", true)]
    [InlineData("2606:4700::1111", true)]
    public void Private_link_local_and_shared_addresses_are_refused_unless_allowed_and_public_ones_pass(string address, bool allowed)
    {
        var networks = new ProviderNetworks(new GatewayOptions().ProviderNetworksAllowed());
        Assert.Equal(allowed, networks.Allows(IPAddress.Parse(address)));
        Assert.True(new ProviderNetworks(["10.0.0.0/8", "fd00::/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "0.0.0.0/8", "fe80::/10",
            "127.0.0.0/8", "::1/128"]).Allows(IPAddress.Parse(address)));
    }

    [Fact]
    public void Only_a_providers_own_error_message_is_passed_on_shortened()
    {
        Assert.Equal("model not found", ProviderErrors.ErrorMessageOf("""{"error":{"message":"model not found","type":"invalid_request_error"}}"""));
        Assert.Equal("overloaded", ProviderErrors.ErrorMessageOf("""{"error":"overloaded"}"""));
        Assert.Equal("bad thing", ProviderErrors.ErrorMessageOf("""{"message":"bad  thing"}"""));
        Assert.Null(ProviderErrors.ErrorMessageOf("<html>internal admin console</html>"));
        Assert.Null(ProviderErrors.ErrorMessageOf("""{"redis_version":"7.0","keys":["a"]}"""));
        Assert.Null(ProviderErrors.ErrorMessageOf("""["error"]"""));
        var longest = "{\"error\":{\"message\":\"" + new string('x', 5000) + "\"}}";
        Assert.Equal(301, ProviderErrors.ErrorMessageOf(longest)!.Length);
    }

    /// <summary>A server that answers every chat call with a redirect to <paramref name="target"/> and a page that must not reach callers.</summary>
    private static async Task<Redirector> RedirectorAsync(string target)
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var redirector = new Redirector(app, url);
        app.MapPost("/v1/chat/completions", async (HttpContext context) =>
        {
            Interlocked.Increment(ref redirector.Hits);
            context.Response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            context.Response.Headers.Location = target;
            await context.Response.WriteAsync("<html>internal-service-page</html>");
        });
        await app.StartAsync();
        return redirector;
    }

    private sealed class Redirector(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url => url;
        public int Hits;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
