using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Gateway;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Chat;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>A silo (embedded, or on Redis) whose catalog caches <c>echo-cached</c> for a minute and <c>echo-plain</c> not at all, over a local OpenAI-compatible backend.</summary>
public abstract class ResponseCacheSilo(bool redis) : IAsyncLifetime
{
    public OpenAiTestServer Backend { get; private set; } = null!;
    public HttpSilo Silo { get; private set; } = null!;
    public string KeyPrefix { get; } = "cache-test-" + Guid.NewGuid().ToString("N")[..8];

    public async ValueTask InitializeAsync()
    {
        Backend = await OpenAiTestServer.StartAsync();
        var args = new List<string> { "--Kyros:Gateway:RetryDelay=00:00:00.050", $"--Kyros:RecentRecords:KeyPrefix={KeyPrefix}" };
        if (redis)
        {
            args.AddRange([$"--Kyros:Redis={RedisConnection}", $"--Kyros:ServiceId={KeyPrefix}", $"--Kyros:ClusterId={KeyPrefix}"]);
        }
        string[] ids = ["echo-cached", "echo-plain"];
        for (var i = 0; i < ids.Length; i++)
        {
            var at = $"--Kyros:Catalog:Models:{i}:";
            args.AddRange([$"{at}Id={ids[i]}", $"{at}Provider=openai-compatible", $"{at}Endpoint={Backend.BaseUrl}", $"{at}InputPricePer1k=1", $"{at}OutputPricePer1k=2"]);
        }
        args.Add("--Kyros:Catalog:Models:0:CacheTtlSeconds=60");
        Silo = await HttpSilo.StartAsync(null, null, [.. args]);
    }

    public string RedisConnection { get; set; } = "";

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Backend.DisposeAsync();
    }
}

public sealed class EmbeddedResponseCacheSilo() : ResponseCacheSilo(redis: false);

/// <summary>The exact response cache through HTTP on an embedded silo: hits, misses, streamed hits, records, headers.</summary>
public sealed class ResponseCacheTests(EmbeddedResponseCacheSilo fixture) : IClassFixture<EmbeddedResponseCacheSilo>
{
    private HttpClient Http => fixture.Silo.Http;

    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(Http.BaseAddress!, "/v1") });

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    private int CallsTo(string model) => fixture.Backend.Calls.GetValueOrDefault(model);

    [Fact]
    public async Task An_identical_deterministic_request_is_answered_from_the_cache_once_the_model_answered_it()
    {
        var text = "cache me " + Guid.NewGuid().ToString("N");
        var first = await Http.PostAsync("/v1/chat/completions", Body($$"""{"model":"echo-cached","temperature":0,"messages":[{"role":"user","content":"{{text}}"}]}"""));
        var before = CallsTo("echo-cached");
        // The same request, its fields in another order and spaced out.
        var second = await Http.PostAsync("/v1/chat/completions", Body($$"""
            { "messages" : [ { "content": "{{text}}", "role": "user" } ],
              "temperature": 0, "model": "echo-cached" }
            """));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("miss", first.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal(before, CallsTo("echo-cached"));
        var a = await first.Content.ReadFromJsonAsync<JsonElement>();
        var b = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(Content(a), Content(b));
        Assert.Contains(text, Content(b));
        Assert.Equal(a.GetProperty("usage").GetRawText(), b.GetProperty("usage").GetRawText());
        Assert.Equal("chat.completion", b.GetProperty("object").GetString());
        Assert.True(a.GetProperty("kyros").GetProperty("cost").GetDouble() > 0);
        Assert.Equal(0, b.GetProperty("kyros").GetProperty("cost").GetDouble());

        // A different request misses and reaches the model.
        var other = await Http.PostAsync("/v1/chat/completions", Body($$"""{"model":"echo-cached","temperature":0,"messages":[{"role":"user","content":"{{text}} again"}]}"""));
        Assert.Equal("miss", other.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal(before + 1, CallsTo("echo-cached"));

        // The hit's record: cost 0, a cache hit, the first call's cost saved.
        var hitId = b.GetProperty("id").GetString();
        var records = await Eventually.UntilAsync(() => Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/echo-cached/records?limit=100"),
            r => Records(r).Any(x => x.GetProperty("request_id").GetString() == hitId));
        var hit = Records(records).Single(x => x.GetProperty("request_id").GetString() == hitId);
        Assert.Equal(0, hit.GetProperty("cost").GetDouble());
        Assert.True(hit.GetProperty("cache_hit").GetBoolean());
        Assert.Equal(a.GetProperty("kyros").GetProperty("cost").GetDouble(), hit.GetProperty("cost_saved").GetDouble(), 9);
        var summary = await Eventually.UntilAsync(() => Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/echo-cached?window=1h"),
            s => s.GetProperty("cache_hits").GetInt64() >= 1);
        Assert.True(summary.GetProperty("cache_hit_rate").GetDouble() > 0);
        Assert.True(summary.GetProperty("cost_saved").GetDouble() >= a.GetProperty("kyros").GetProperty("cost").GetDouble() - 1e-9);
    }

    [Fact]
    public async Task Anthropic_messages_are_cached_too_whole_and_streamed_in_anthropics_shapes()
    {
        var text = "messages " + Guid.NewGuid().ToString("N");
        var body = $$"""{"model":"echo-cached","max_tokens":50,"temperature":0,"messages":[{"role":"user","content":"{{text}}"}]}""";
        using var first = await Http.PostAsync("/v1/messages", Body(body));
        var before = CallsTo("echo-cached");
        using var second = await Http.PostAsync("/v1/messages", Body(body));
        Assert.Equal("miss", first.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-kyros-cache").Single());
        var a = await first.Content.ReadFromJsonAsync<JsonElement>();
        var b = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("message", b.GetProperty("type").GetString());
        Assert.Equal(a.GetProperty("content").GetRawText(), b.GetProperty("content").GetRawText());
        Assert.Contains(text, b.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal(0, b.GetProperty("kyros").GetProperty("cost").GetDouble());

        // Streamed, the hit comes as Anthropic's named events with the same text; the model is still not called.
        using var streamed = await Http.PostAsync("/v1/messages", Body(body.Replace("\"temperature\":0", "\"temperature\":0,\"stream\":true")));
        Assert.Equal("hit", streamed.Headers.GetValues("x-kyros-cache").Single());
        var events = await streamed.Content.ReadAsStringAsync();
        Assert.Contains("event: message_start", events);
        Assert.Contains("event: message_stop", events);
        Assert.Contains(text, string.Concat(events.Split('\n').Where(l => l.StartsWith("data: ", StringComparison.Ordinal) && l.Contains("text_delta", StringComparison.Ordinal))
            .Select(l => JsonDocument.Parse(l[6..]).RootElement.GetProperty("delta").GetProperty("text").GetString())));
        Assert.Equal(before, CallsTo("echo-cached"));
    }

    [Fact]
    public async Task A_streamed_hit_returns_the_same_content_as_chunks_through_the_openai_client()
    {
        var text = "stream me " + Guid.NewGuid().ToString("N");
        var options = new ChatCompletionOptions { Temperature = 0 };
        ChatCompletion plain = await Client("echo-cached").CompleteChatAsync([new UserChatMessage(text)], options);
        var before = CallsTo("echo-cached");
        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        var chunks = 0;
        await foreach (var update in Client("echo-cached").CompleteChatStreamingAsync([new UserChatMessage(text)], options))
        {
            chunks++;
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
        }
        Assert.Equal(before, CallsTo("echo-cached"));
        Assert.Equal(plain.Content[0].Text, streamed.ToString());
        Assert.Equal(plain.FinishReason, finish);
        Assert.True(chunks >= 3);
    }

    [Fact]
    public async Task A_non_deterministic_request_carries_no_cache_header_and_calls_the_model_each_time()
    {
        var body = $$"""{"model":"echo-cached","temperature":0.7,"messages":[{"role":"user","content":"vary {{Guid.NewGuid():N}}"}]}""";
        var before = CallsTo("echo-cached");
        for (var i = 0; i < 2; i++)
        {
            var response = await Http.PostAsync("/v1/chat/completions", Body(body));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("x-kyros-cache"));
        }
        Assert.Equal(before + 2, CallsTo("echo-cached"));
    }

    [Fact]
    public async Task The_header_turns_the_cache_on_for_a_model_without_a_ttl_and_a_bad_value_is_a_400_naming_it()
    {
        var body = $$"""{"model":"echo-plain","messages":[{"role":"user","content":"header {{Guid.NewGuid():N}}"}]}""";
        var before = CallsTo("echo-plain");
        var plain = await Http.PostAsync("/v1/chat/completions", Body(body));
        Assert.False(plain.Headers.Contains("x-kyros-cache"));
        HttpResponseMessage Send(string ttl)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Body(body) };
            request.Headers.Add("x-kyros-cache-ttl", ttl);
            return Http.Send(request);
        }
        Assert.Equal("miss", Send("30").Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal("hit", Send("30").Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal(before + 2, CallsTo("echo-plain"));
        foreach (var bad in new[] { "0", "86401", "soon", "-5" })
        {
            var refused = Send(bad);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            Assert.Contains("x-kyros-cache-ttl", await refused.Content.ReadAsStringAsync());
        }
    }

    private static string Content(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    private static IEnumerable<JsonElement> Records(JsonElement response) =>
        response.ValueKind == JsonValueKind.Array ? response.EnumerateArray() : response.GetProperty("records").EnumerateArray();
}

/// <summary>The embedded store's bounds and expiry, by a fake clock.</summary>
public sealed class InMemoryResponseCacheStoreTests
{
    [Fact]
    public async Task Entries_expire_at_their_ttl_and_the_least_recently_used_goes_first_past_the_bounds()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new InMemoryResponseCacheStore(Options.Create(new ResponseCacheOptions { MaxEntries = 2, MaxBytes = 1_000_000 }), time);
        await store.SetAsync("a", [1], TimeSpan.FromSeconds(60));
        await store.SetAsync("b", [2], TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal([2], await store.GetAsync("b"));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Null(await store.GetAsync("b"));
        Assert.Equal([1], await store.GetAsync("a"));
        await store.SetAsync("c", [3], TimeSpan.FromSeconds(60));
        await store.GetAsync("a");
        await store.SetAsync("d", [4], TimeSpan.FromSeconds(60));
        Assert.Null(await store.GetAsync("c"));
        Assert.Equal([1], await store.GetAsync("a"));
        Assert.Equal(2, store.Count);

        var small = new InMemoryResponseCacheStore(Options.Create(new ResponseCacheOptions { MaxEntries = 100, MaxBytes = 2_048, MaxEntryBytes = 1_024 }), time);
        await small.SetAsync("x", new byte[1_024], TimeSpan.FromSeconds(60));
        await small.SetAsync("y", new byte[1_024], TimeSpan.FromSeconds(60));
        await small.SetAsync("z", new byte[1_024], TimeSpan.FromSeconds(60));
        Assert.Null(await small.GetAsync("x"));
        Assert.Equal(2_048, small.Bytes);
    }
}

/// <summary>The response cache of a silo on Redis: a key per entry with the TTL Redis keeps.</summary>
public sealed class RedisResponseCacheTests(RedisServer redis) : IAsyncLifetime
{
    private readonly RedisSilo _silo = new() { RedisConnection = redis.ConnectionString };

    public ValueTask InitializeAsync() => _silo.InitializeAsync();

    public ValueTask DisposeAsync() => _silo.DisposeAsync();

    private sealed class RedisSilo() : ResponseCacheSilo(redis: true);

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_hit_comes_from_a_redis_key_that_expires_at_the_catalog_ttl()
    {
        var body = $$"""{"model":"echo-cached","seed":7,"messages":[{"role":"user","content":"redis {{Guid.NewGuid():N}}"}]}""";
        var first = await _silo.Silo.Http.PostAsync("/v1/chat/completions", Body(body));
        var second = await _silo.Silo.Http.PostAsync("/v1/chat/completions", Body(body));
        Assert.Equal("miss", first.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal(1, _silo.Backend.Calls.GetValueOrDefault("echo-cached"));
        Assert.Equal((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices").GetRawText(),
            (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("choices").GetRawText());

        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var server = connection.GetServer(connection.GetEndPoints()[0]);
        var keys = server.Keys(pattern: _silo.KeyPrefix + ":cache:*").ToArray();
        var key = Assert.Single(keys);
        var ttl = await connection.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value.TotalSeconds, 50, 60);
    }
}

/// <summary>A hung Redis behind the response cache: the read gives up at its timeout and the request goes to the model as a miss.</summary>
public sealed class HungRedisResponseCacheTests : IAsyncLifetime
{
    private readonly RedisServer _redis = new();
    private ResponseCacheSilo _silo = null!;

    public async ValueTask InitializeAsync()
    {
        await _redis.InitializeAsync();
        _silo = new HungRedisSilo { RedisConnection = _redis.ConnectionString };
        await _silo.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _redis.Thaw();
        await _silo.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private sealed class HungRedisSilo() : ResponseCacheSilo(redis: true);

    [Fact]
    public async Task A_cached_request_reaches_the_model_while_redis_hangs_and_is_answered_as_a_miss()
    {
        Assert.True(_redis.IsOwn, "the test freezes its Redis: it needs one of its own");
        var body = $$"""{"model":"echo-cached","seed":7,"messages":[{"role":"user","content":"hung {{Guid.NewGuid():N}}"}]}""";
        using (var first = await _silo.Silo.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json")))
            Assert.Equal("miss", first.Headers.GetValues("x-kyros-cache").Single());
        using (var second = await _silo.Silo.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json")))
            Assert.Equal("hit", second.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal(1, _silo.Backend.Calls.GetValueOrDefault("echo-cached"));

        // Redis stops answering (SIGSTOP): the cached entry cannot be read, so the model is called while Redis is still
        // frozen; Redis comes back only once the model has the call (the answer's record then waits for it).
        _redis.Freeze();
        var third = _silo.Silo.Http.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        try
        {
            await Eventually.UntilAsync(() => Task.FromResult(_silo.Backend.Calls.GetValueOrDefault("echo-cached")), n => n == 2, TimeSpan.FromSeconds(10));
        }
        finally
        {
            _redis.Thaw();
        }
        using var answered = await third;
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal("miss", answered.Headers.GetValues("x-kyros-cache").Single());
        Assert.Equal(2, _silo.Backend.Calls.GetValueOrDefault("echo-cached"));
    }
}
