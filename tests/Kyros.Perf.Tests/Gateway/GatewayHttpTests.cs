using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>The gateway over real HTTP, calling a local OpenAI-compatible server through the real OpenAI client path.</summary>
public sealed class GatewayHttpTests(GatewaySilo fixture) : IClassFixture<GatewaySilo>
{
    private HttpClient Http => fixture.Silo.Http;

    private async Task<JsonElement> GenerateAsync(string body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await Http.PostAsync("/v1/models/generate", Json(body));
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {json}");
        return json;
    }

    [Fact]
    public async Task A_generation_answers_with_text_usage_decision_and_is_recorded()
    {
        var result = await GenerateAsync("""{"prompt": "hello there", "model": "echo", "max_tokens": 50}""");
        Assert.Equal("echo: hello there", result.GetProperty("text").GetString());
        Assert.Equal("echo", result.GetProperty("model").GetString());
        Assert.False(result.GetProperty("simulated").GetBoolean());
        Assert.Equal(("provider", 11, 3), (result.GetProperty("usage").GetProperty("source").GetString(),
            result.GetProperty("usage").GetProperty("input_tokens").GetInt32(), result.GetProperty("usage").GetProperty("output_tokens").GetInt32()));
        Assert.StartsWith("dec_", result.GetProperty("decision").GetProperty("decision_id").GetString());
        Assert.True(result.GetProperty("ttft_seconds").GetDouble() <= result.GetProperty("latency_seconds").GetDouble());

        var recorded = await Eventually.UntilAsync(() => Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/echo/records?limit=100"),
            r => r.GetProperty("records").EnumerateArray().Any(x => x.GetProperty("request_id").GetString() == result.GetProperty("request_id").GetString()));
        Assert.NotEqual(default, recorded);
    }

    [Fact]
    public async Task A_rate_limit_is_retried_after_its_retry_after_and_both_attempts_are_listed()
    {
        var result = await GenerateAsync("""{"prompt": "again please", "model": "ratelimit-once"}""");
        var attempts = result.GetProperty("attempts").EnumerateArray().ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.Equal(("rate_limit", 0.1), (attempts[0].GetProperty("error_kind").GetString(), attempts[0].GetProperty("retry_after_seconds").GetDouble()));
        Assert.True(attempts[1].GetProperty("success").GetBoolean());
        Assert.Equal("echo: again please", result.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Server_errors_are_retried_then_the_decisions_fallback_order_is_followed_and_every_attempt_recorded()
    {
        var result = await GenerateAsync("""{"prompt": "fall back", "available_models": ["broken", "echo"], "strategy": "highest_quality"}""");
        Assert.Equal("broken", result.GetProperty("decision").GetProperty("selected_model").GetString());
        Assert.Equal(["echo"], result.GetProperty("decision").GetProperty("fallback_order").EnumerateArray().Select(m => m.GetString()));
        var attempts = result.GetProperty("attempts").EnumerateArray().Select(a => (a.GetProperty("model").GetString(), a.GetProperty("error_kind").GetString())).ToArray();
        Assert.Equal([("broken", "server_error"), ("broken", "server_error"), ("broken", "server_error"), ("echo", null)], attempts);
        Assert.Equal("echo", result.GetProperty("model").GetString());

        var summary = await Eventually.UntilAsync(() => Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/broken?window=5m"), s => s.GetProperty("count").GetInt32() >= 3);
        Assert.Equal(3, summary.GetProperty("errors_by_kind").GetProperty("server_error").GetInt32());
    }

    [Fact]
    public async Task A_timeout_moves_on_and_when_all_time_out_the_answer_is_504()
    {
        var moved = await GenerateAsync("""{"prompt": "quick", "available_models": ["slow-b", "echo"], "strategy": "highest_quality"}""");
        Assert.Equal(("slow-b", "timeout"), (moved.GetProperty("attempts")[0].GetProperty("model").GetString(), moved.GetProperty("attempts")[0].GetProperty("error_kind").GetString()));
        Assert.Equal("echo", moved.GetProperty("model").GetString());

        var failed = await GenerateAsync("""{"prompt": "quick", "model": "slow"}""", HttpStatusCode.GatewayTimeout);
        Assert.Equal("timeout", failed.GetProperty("attempts")[0].GetProperty("error_kind").GetString());
    }

    [Fact]
    public async Task A_non_streaming_caller_gets_a_fallback_when_a_stream_breaks_or_a_provider_answers_garbage()
    {
        var moved = await GenerateAsync("""{"prompt": "one two three", "available_models": ["drop-b", "echo"], "strategy": "highest_quality"}""");
        Assert.Equal("drop-b", moved.GetProperty("decision").GetProperty("selected_model").GetString());
        Assert.Equal("drop-b", moved.GetProperty("attempts")[0].GetProperty("model").GetString());
        Assert.False(moved.GetProperty("attempts")[0].GetProperty("success").GetBoolean());
        Assert.Equal("echo: one two three", moved.GetProperty("text").GetString());

        var garbage = await GenerateAsync("""{"prompt": "hi", "model": "garbage"}""", HttpStatusCode.BadGateway);
        Assert.Equal("bad_response", garbage.GetProperty("attempts")[0].GetProperty("error_kind").GetString());
    }

    [Fact]
    public async Task A_provider_that_answers_a_stream_with_one_json_completion_is_read_as_that_completion()
    {
        var plain = await GenerateAsync("""{"prompt": "one two", "model": "nostream"}""");
        Assert.Equal("echo: one two", plain.GetProperty("text").GetString());
        var attempt = Assert.Single(plain.GetProperty("attempts").EnumerateArray());
        Assert.True(attempt.GetProperty("success").GetBoolean());
        Assert.Equal(3, plain.GetProperty("usage").GetProperty("output_tokens").GetInt64());
    }

    [Fact]
    public async Task A_providers_own_4xx_comes_back_as_a_4xx_with_its_message_and_no_fallback()
    {
        var refused = await GenerateAsync("""{"prompt": "too long", "model": "refuse"}""", HttpStatusCode.BadRequest);
        Assert.Contains("the prompt is too long for this model", refused.GetProperty("detail").GetString());
        Assert.Single(refused.GetProperty("attempts").EnumerateArray());
    }

    [Fact]
    public async Task Chat_completions_stream_in_openai_chunks_with_a_final_usage_chunk_when_asked_and_headers()
    {
        var response = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "echo", "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "stream me"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("echo", response.Headers.GetValues("x-kyros-model").Single());
        Assert.StartsWith("dec_", response.Headers.GetValues("x-kyros-decision-id").Single());
        var events = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e["data: ".Length..]).ToArray();
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToArray();
        Assert.Equal("echo: stream me", string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var t) ? t.GetString() : "")));
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(3, chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(0, chunks[^1].GetProperty("choices").GetArrayLength());

        // Unasked, no usage chunk: the finish chunk is the last, and every chunk has a choice (as OpenAI streams).
        var plain = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "echo", "stream": true, "messages": [{"role": "user", "content": "stream me"}]}"""));
        var plainChunks = (await plain.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries).SkipLast(1)
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.All(plainChunks, c => Assert.Equal(1, c.GetProperty("choices").GetArrayLength()));
        Assert.Equal("stop", plainChunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.False(plainChunks[^1].TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task A_stream_that_breaks_after_the_first_token_ends_with_an_error_event_not_a_clean_end()
    {
        var response = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "drop", "stream": true, "messages": [{"role": "user", "content": "one two three four"}]}"""));
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("echo:", text);
        Assert.DoesNotContain("[DONE]", text);
        var last = JsonDocument.Parse(text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[^1]["data: ".Length..]).RootElement;
        Assert.Contains("drop failed after it started answering", last.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("""{"prompt": ""}""", "prompt")]
    [InlineData("""{"messages": []}""", "messages")]
    [InlineData("""{"messages": [{"role": "robot", "content": "hi"}]}""", "messages[0].role")]
    [InlineData("""{"prompt": "hi", "max_tokens": 0}""", "max_tokens")]
    [InlineData("""{"prompt": "hi", "max_tokens": 1001}""", "max_tokens")]
    [InlineData("""{"prompt": "hi", "temperature": 2.5}""", "temperature")]
    [InlineData("""{"prompt": "hi", "strategy": "fastest"}""", "strategy")]
    [InlineData("""{"prompt": "hi", "model": "gpt-17"}""", "model")]
    [InlineData("""{"prompt": "hi", "promt": "typo"}""", "promt")]
    [InlineData("""{"prompt": "hi", "request_features": {"creativity_requirement": 2}}""", "request_features.creativity_requirement")]
    public async Task Bad_generations_are_400_naming_the_field_and_call_no_model(string body, string field)
    {
        var before = fixture.Backend.TotalCalls;
        var problem = await GenerateAsync(body, HttpStatusCode.BadRequest);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Equal(before, fixture.Backend.TotalCalls);
    }

    [Fact]
    public async Task Chat_completions_refuse_unknown_models_and_malformed_bodies_without_calling_a_model()
    {
        var before = fixture.Backend.TotalCalls;
        var unknown = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "gpt-17", "messages": [{"role": "user", "content": "hi"}]}"""));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        var strategy = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "kyros/fastest", "messages": [{"role": "user", "content": "hi"}]}"""));
        Assert.Equal("model", (await strategy.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
        var malformed = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "echo", "messages": [{"role": "user", "content": "hi"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(before, fixture.Backend.TotalCalls);
    }

    [Fact]
    public async Task Feedback_lands_as_the_requests_quality_once_and_bad_feedback_is_refused()
    {
        var result = await GenerateAsync("""{"prompt": "rate me", "model": "echo"}""");
        var id = result.GetProperty("request_id").GetString();
        // Given at once: the record is still on its way to the log, and feedback waits for it.
        var ok = await Http.PostAsync("/v1/feedback", Json($$"""{"request_id": "{{id}}", "score": 0.75}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await Http.PostAsync("/v1/feedback", Json($$"""{"request_id": "{{id}}", "score": 0.1}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.PostAsync("/v1/feedback", Json("""{"request_id": "gen.ZWNobw.1.00000000000000000000000000000000", "score": 0.5}"""))).StatusCode);
        var bad = await Http.PostAsync("/v1/feedback", Json($$"""{"request_id": "{{id}}", "score": 1.5}"""));
        Assert.Equal("score", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());

        var quality = (await Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/echo?window=5m")).GetProperty("quality");
        Assert.Equal(1, quality.GetProperty("count").GetInt32());
        Assert.Equal(0.75, quality.GetProperty("mean").GetDouble());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
