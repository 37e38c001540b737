using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// Run-time API keys across two real silo processes on Redis, over HTTP: made through one silo, used through the other,
/// scoped to models, limited, revoked, and the secret nowhere but in the answer that made it.
/// </summary>
public sealed class KeyProcessTests(RedisServer redis)
{
    private const string Admin = "operator-key-0123456789abcdef";
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);
    private readonly BearerHttp _http = new();

    [Fact]
    public async Task A_key_made_on_one_silo_works_on_the_other_only_for_its_models_and_stops_when_revoked_and_its_secret_is_never_stored_or_shown()
    {
        var serviceId = $"keys-{Guid.NewGuid():N}"[..16];
        string[] settings =
        [
            "--Kyros:Auth:Keys:0:Name=ops", $"--Kyros:Auth:Keys:0:Key={Admin}", "--Kyros:Auth:Keys:0:Scopes:0=read", "--Kyros:Auth:Keys:0:Scopes:1=write",
            "--Kyros:Auth:Keys:0:Scopes:2=admin", "--Kyros:Gateway:SimulationTimeScale=0.01",
            // The key directory's own log lines are kept, so that the test can look for the secret in them.
            "--Logging:LogLevel:Kyros.Perf=Information",
        ];
        var silos = await Task.WhenAll(new[] { "keys-a", "keys-b" }.Select((n, i) =>
            SiloProcess.StartAsync(redis.ConnectionString, serviceId, n, Directory.CreateTempSubdirectory($"kyros-{n}-").FullName, settings)));
        await using var a = silos[0];
        await using var b = silos[1];
        var shown = new StringBuilder();

        // Bad input through either silo: 400 naming the field, nothing stored; only admin may make keys.
        foreach (var (body, field) in BadKeys())
        {
            using var refused = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/keys", Admin, body);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Equal(field, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        using (var configuredName = await _http.Send(HttpMethod.Post, $"{a.HttpUrl}/v1/keys", Admin, new { name = "ops", scopes = new[] { "read" } }))
            Assert.Equal(HttpStatusCode.Conflict, configuredName.StatusCode);
        Assert.Equal(0, (await _http.Json(HttpMethod.Get, $"{a.HttpUrl}/v1/keys", Admin)).GetProperty("count").GetInt32());

        // Made through A with models [gpt-4]: the answer holds the secret, this once.
        using var created = await _http.Send(HttpMethod.Post, $"{a.HttpUrl}/v1/keys", Admin, new { name = "team-gpt4", scopes = new[] { "read", "write" }, models = new[] { "gpt-4" }, budget_usd = 10, tpm = 5000 });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var secret = key.GetProperty("key").GetString()!;
        var id = key.GetProperty("id").GetString()!;
        Assert.StartsWith("kp-", secret);
        Assert.Equal("month", key.GetProperty("budget_period").GetString());
        Assert.Equal($"/v1/keys/{id}", created.Headers.Location!.OriginalString);

        // B takes it within 2 s of A's answer.
        var clock = Stopwatch.StartNew();
        await Eventually.UntilAsync(() => _http.Status(HttpMethod.Get, $"{b.HttpUrl}/v1/models", secret), s => s == HttpStatusCode.OK, Propagation);
        Assert.True(clock.Elapsed < Propagation, $"B took the key after {clock.Elapsed.TotalMilliseconds:0} ms");
        // Its scopes hold: no admin.
        Assert.Equal(HttpStatusCode.Forbidden, await _http.Status(HttpMethod.Get, $"{b.HttpUrl}/v1/keys", secret));

        // Models: claude is refused naming it, in OpenAI's shape and Anthropic's; auto and routing choose only gpt-4.
        using (var claude = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/chat/completions", secret, Chat("claude")))
        {
            Assert.Equal(HttpStatusCode.Forbidden, claude.StatusCode);
            var error = (await claude.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
            Assert.Contains("'claude'", error.GetProperty("message").GetString());
            Assert.Equal("insufficient_permissions", error.GetProperty("code").GetString());
            Assert.Equal("model", error.GetProperty("param").GetString());
        }
        using (var anthropic = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/messages", secret, new { model = "claude", max_tokens = 20, messages = new[] { new { role = "user", content = "hi" } } }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, anthropic.StatusCode);
            var error = (await anthropic.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error");
            Assert.Equal("permission_error", error.GetProperty("type").GetString());
            Assert.Contains("'claude'", error.GetProperty("message").GetString());
        }
        using (var embed = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/embeddings", secret, new { model = "text-embedding-3-small", input = "x" }))
            Assert.Equal(HttpStatusCode.Forbidden, embed.StatusCode);
        // auto over the key's models, none an embedding model: refused, not routed to one outside them.
        using (var embedAuto = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/embeddings", secret, new { model = "auto", input = "x" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, embedAuto.StatusCode);
            Assert.Equal("model", (await embedAuto.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        using (var generate = await _http.Send(HttpMethod.Post, $"{a.HttpUrl}/v1/models/generate", secret, new { model = "claude", prompt = "hi", max_tokens = 10 }))
            Assert.Equal(HttpStatusCode.Forbidden, generate.StatusCode);
        using (var candidates = await _http.Send(HttpMethod.Post, $"{a.HttpUrl}/v1/models/route", secret, new { available_models = new[] { "gpt-4", "claude" } }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, candidates.StatusCode);
            Assert.Equal("available_models", (await candidates.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        }
        for (var i = 0; i < 3; i++)
        {
            using var auto = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/chat/completions", secret, Chat("auto"));
            Assert.Equal(HttpStatusCode.OK, auto.StatusCode);
            Assert.Equal("gpt-4", auto.Headers.GetValues("x-kyros-model").Single());
            Assert.Equal("gpt-4", (await auto.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("model").GetString());
        }
        var routed = await _http.Json(HttpMethod.Post, $"{a.HttpUrl}/v1/models/route", secret, new { strategy = "balanced" });
        Assert.Equal("gpt-4", routed.GetProperty("selected_model").GetString());
        Assert.Equal(["gpt-4"], routed.GetProperty("candidates").EnumerateArray().Select(c => c.GetProperty("model").GetString()));
        // The admin key, without models, is not held to them.
        using (var unscoped = await _http.Send(HttpMethod.Post, $"{b.HttpUrl}/v1/chat/completions", Admin, Chat("claude")))
            Assert.Equal(HttpStatusCode.OK, unscoped.StatusCode);

        // Reads show every field but the secret, and never its hash.
        var listed = await _http.Json(HttpMethod.Get, $"{b.HttpUrl}/v1/keys", Admin);
        var one = await _http.Json(HttpMethod.Get, $"{b.HttpUrl}/v1/keys/{id}", Admin);
        shown.Append(listed.GetRawText()).Append(one.GetRawText());
        Assert.Equal(["gpt-4"], one.GetProperty("models").EnumerateArray().Select(m => m.GetString()));
        Assert.Equal(10, one.GetProperty("budget_usd").GetDouble());
        Assert.Equal(5000, one.GetProperty("tpm").GetInt64());
        Assert.False(one.TryGetProperty("key", out _));
        Assert.False(one.TryGetProperty("hash", out _));
        Assert.Equal(["ops"], listed.GetProperty("configured").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, await _http.Status(HttpMethod.Get, $"{a.HttpUrl}/v1/keys/key_0000000000000000", Admin));
        Assert.Equal(HttpStatusCode.NotFound, await _http.Status(HttpMethod.Patch, $"{a.HttpUrl}/v1/keys/key_0000000000000000", Admin, new { rpm = 1 }));

        // Patched through B to 2 requests a minute: A holds it to that (a limit per silo).
        using (var patched = await _http.Send(HttpMethod.Patch, $"{b.HttpUrl}/v1/keys/{id}", Admin, new { rpm = 2, budget_usd = (double?)null }))
        {
            Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
            var body = await patched.Content.ReadFromJsonAsync<JsonElement>();
            shown.Append(body.GetRawText());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("budget_usd").ValueKind);
            Assert.Equal(JsonValueKind.Null, body.GetProperty("budget_period").ValueKind);
        }
        using (var badPatch = await _http.Send(HttpMethod.Patch, $"{b.HttpUrl}/v1/keys/{id}", Admin, new { scopes = new[] { "superuser" } }))
            Assert.Equal("scopes", (await badPatch.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        await Eventually.UntilAsync(() => _http.Json(HttpMethod.Get, $"{a.HttpUrl}/v1/keys/{id}", Admin), k => k.GetProperty("rpm").ValueKind == JsonValueKind.Number, Propagation);
        var statuses = new List<HttpStatusCode>();
        await Eventually.UntilAsync(async () =>
        {
            statuses.Add(await _http.Status(HttpMethod.Get, $"{a.HttpUrl}/v1/models", secret));
            return statuses;
        }, s => s[^1] == HttpStatusCode.TooManyRequests, Propagation);
        Assert.True(statuses.Count(s => s == HttpStatusCode.OK) <= 2, string.Join(",", statuses));

        // Revoked through B: A refuses it (401) within 2 s; it is gone from the directory.
        using (var revoked = await _http.Send(HttpMethod.Delete, $"{b.HttpUrl}/v1/keys/{id}", Admin, null))
            Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        clock.Restart();
        await Eventually.UntilAsync(() => _http.Status(HttpMethod.Post, $"{a.HttpUrl}/v1/chat/completions", secret, Chat("auto")), s => s == HttpStatusCode.Unauthorized, Propagation);
        Assert.True(clock.Elapsed < Propagation, $"A refused the revoked key after {clock.Elapsed.TotalMilliseconds:0} ms");
        Assert.Equal(HttpStatusCode.NotFound, await _http.Status(HttpMethod.Get, $"{a.HttpUrl}/v1/keys/{id}", Admin));
        Assert.Equal(HttpStatusCode.NotFound, await _http.Status(HttpMethod.Delete, $"{a.HttpUrl}/v1/keys/{id}", Admin));

        // The secret is in no read, no log line and no Redis value; the directory's change is in the log, by id.
        Assert.DoesNotContain(secret, shown.ToString());
        var log = string.Join("\n", a.Log.Concat(b.Log));
        Assert.Contains($"created key {id} (team-gpt4)", log);
        Assert.DoesNotContain(secret, log);
        Assert.DoesNotContain(secret[3..], log);
        var values = await RedisValuesAsync(serviceId);
        Assert.Contains(values, v => v.Key.Contains("/state/") && v.Key.Contains("keys"));
        Assert.All(values, v => Assert.DoesNotContain(secret[3..], v.Value));
    }

    private static IEnumerable<(object Body, string Field)> BadKeys()
    {
        yield return (new { name = "", scopes = new[] { "read" } }, "name");
        yield return (new { scopes = new[] { "read" } }, "name");
        yield return (new { name = "x", scopes = new[] { "root" } }, "scopes");
        yield return (new { name = "x", scopes = new[] { "read" }, budget_usd = -1 }, "budget_usd");
        yield return (new { name = "x", scopes = new[] { "read" }, budget_usd = 5, budget_period = "week" }, "budget_period");
        yield return (new { name = "x", scopes = new[] { "read" }, models = new[] { "no-such-model" } }, "models");
        yield return (new { name = "x", scopes = new[] { "read" }, expires_at = "2001-01-01T00:00:00Z" }, "expires_at");
        yield return (new { name = "x", scopes = new[] { "read" }, rpm = 0 }, "rpm");
        yield return (new { name = "x", scopes = new[] { "read" }, colour = "blue" }, "colour");
    }

    private static object Chat(string model) => new { model, max_tokens = 10, messages = new[] { new { role = "user", content = "Say hi." } } };

    /// <summary>Every key of this Redis whose name holds the service id (grain state) or starts with it (the recent records), with its values.</summary>
    private async Task<List<KeyValuePair<string, string>>> RedisValuesAsync(string serviceId)
    {
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var db = connection.GetDatabase();
        var found = new List<KeyValuePair<string, string>>();
        foreach (var name in connection.GetServer(connection.GetEndPoints()[0]).Keys(pattern: $"*{serviceId}*"))
        {
            var text = await db.KeyTypeAsync(name) switch
            {
                RedisType.String => (string?)await db.StringGetAsync(name) ?? "",
                RedisType.Hash => string.Join("\n", (await db.HashGetAllAsync(name)).Select(e => $"{e.Name}={e.Value}")),
                RedisType.List => string.Join("\n", await db.ListRangeAsync(name)),
                RedisType.Set => string.Join("\n", await db.SetMembersAsync(name)),
                RedisType.SortedSet => string.Join("\n", await db.SortedSetRangeByRankAsync(name)),
                _ => "",
            };
            found.Add(new(name!, text));
        }
        return found;
    }
}
