using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Anthropic;
using Anthropic.Exceptions;
using Anthropic.Models.Messages;
using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// A silo with API keys whose catalog holds models on the anthropic provider (the <see cref="AnthropicTestServer"/>)
/// and one on the openai-compatible provider (the <see cref="OpenAiTestServer"/>).
/// </summary>
public sealed class AnthropicSilo : IAsyncLifetime
{
    public const string Key = "anthropic-writer-key-0123456789";
    public const string KeyVariable = "KYROS_PROVIDER_TEST_ANTHROPIC_KEY";
    public const string VariableKey = "sk-ant-from-variable";
    public const string ConfiguredKey = "sk-ant-from-configuration";

    /// <summary>Catalog id, provider, the backend's model name.</summary>
    private static readonly (string Id, string Provider, string Remote)[] Models =
    [
        ("claude-echo", "anthropic", "echo-claude"), ("claude-tool", "anthropic", "tool-claude"), ("claude-overloaded", "anthropic", "overloaded-claude"),
        ("claude-ratelimit", "anthropic", "ratelimit-once-claude"), ("openai-echo", "openai-compatible", "echo"),
    ];

    public AnthropicTestServer Anthropic { get; private set; } = null!;
    public OpenAiTestServer OpenAi { get; private set; } = null!;
    public HttpSilo Silo { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Anthropic = await AnthropicTestServer.StartAsync();
        OpenAi = await OpenAiTestServer.StartAsync();
        // claude-echo's key comes from its ApiKeyVariable, claude-tool's from Kyros:Gateway:ApiKeys.
        Environment.SetEnvironmentVariable(KeyVariable, VariableKey);
        var args = new List<string>
        {
            "--Kyros:Gateway:RetryDelay=00:00:00.050", $"--Kyros:Gateway:ApiKeys:claude-tool={ConfiguredKey}",
            "--Kyros:Auth:Keys:0:Name=anthropic-sdk", $"--Kyros:Auth:Keys:0:Key={Key}", "--Kyros:Auth:Keys:0:Scopes:0=write",
        };
        for (var i = 0; i < Models.Length; i++)
        {
            var (id, provider, remote) = Models[i];
            var at = $"--Kyros:Catalog:Models:{i}:";
            args.AddRange([$"{at}Id={id}", $"{at}Provider={provider}", $"{at}Endpoint={(provider == "anthropic" ? Anthropic.BaseUrl : OpenAi.BaseUrl)}",
                $"{at}RemoteModel={remote}", $"{at}TimeoutSeconds=30", $"{at}MaxOutputTokens=1000", $"{at}Capabilities:Tools=true", $"{at}Capabilities:Vision=true"]);
            if (id == "claude-echo") args.Add($"{at}ApiKeyVariable={KeyVariable}");
        }
        Silo = await HttpSilo.StartAsync(null, null, [.. args]);
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await OpenAi.DisposeAsync();
        await Anthropic.DisposeAsync();
    }
}

/// <summary>
/// Anthropic both ways: the official Anthropic .NET SDK calls the silo's <c>/v1/messages</c>, and the gateway calls a
/// local Anthropic Messages server through the anthropic provider (the same SDK's IChatClient).
/// </summary>
public sealed class AnthropicTests(AnthropicSilo fixture) : IClassFixture<AnthropicSilo>
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city","days"]}""";

    private AnthropicClient Client(string key = AnthropicSilo.Key) =>
        // No retries of its own: a test sees the silo's first answer.
        new() { ApiKey = key, BaseUrl = fixture.Silo.Http.BaseAddress!.ToString().TrimEnd('/'), MaxRetries = 0 };

    private static MessageCreateParams Ask(string model, string text) => new()
    {
        Model = model,
        MaxTokens = 200,
        Messages = [new UserMessageParam { Content = text }],
    };

    private static string TextOf(Message message) =>
        string.Concat(message.Content.Select(b => b.TryPickText(out var text) ? text.Text : ""));

    [Fact]
    public async Task The_sdk_gets_a_message_from_an_anthropic_model_and_the_backend_got_the_key_and_version()
    {
        var message = await Client().Messages.Create(Ask("claude-echo", "hello from the sdk") with { System = "Be brief." });

        Assert.Equal("echo: hello from the sdk", TextOf(message));
        Assert.Equal("claude-echo", message.Model.Raw());
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
        Assert.Equal(AnthropicTestServer.InputTokens, message.Usage.InputTokens);
        Assert.Equal(5, message.Usage.OutputTokens);

        var received = fixture.Anthropic.For("echo-claude").Last();
        // SDK 13.15 sends its ApiKey as a bearer token (older ones sent x-api-key), and its own anthropic-version.
        Assert.Equal($"Bearer {AnthropicSilo.VariableKey}", received.Headers["authorization"]);
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", received.Headers["anthropic-version"]);
        Assert.Equal(200, (int)received.Body["max_tokens"]!);
        Assert.Contains("Be brief.", received.Body["system"]!.ToJsonString());
    }

    [Fact]
    public async Task The_sdk_gets_a_stream_with_named_events()
    {
        var text = new StringBuilder();
        var names = new List<string>();
        long? outputTokens = null;
        StopReason? stop = null;
        await foreach (var e in Client().Messages.CreateStreaming(Ask("claude-echo", "streamed to the sdk")))
        {
            if (e.TryPickStart(out _)) names.Add("message_start");
            if (e.TryPickContentBlockStart(out _)) names.Add("content_block_start");
            if (e.TryPickContentBlockDelta(out var delta) && delta.Delta.TryPickText(out var piece)) text.Append(piece.Text);
            if (e.TryPickContentBlockStop(out _)) names.Add("content_block_stop");
            if (e.TryPickDelta(out var end))
            {
                (outputTokens, stop) = (end.Usage.OutputTokens, end.Delta.StopReason?.Value());
                names.Add("message_delta");
            }
            if (e.TryPickStop(out _)) names.Add("message_stop");
        }
        Assert.Equal("echo: streamed to the sdk", text.ToString());
        Assert.Equal(["message_start", "content_block_start", "content_block_stop", "message_delta", "message_stop"], names);
        Assert.Equal(5, outputTokens);
        Assert.Equal(StopReason.EndTurn, stop);
    }

    [Fact]
    public async Task A_request_with_tools_gets_a_tool_use_and_its_tool_result_reaches_the_backend()
    {
        IChatClient chat = Client().AsIChatClient("claude-tool");
        var weather = AIFunctionFactory.CreateDeclaration("get_weather", "The weather of a city", JsonDocument.Parse(WeatherSchema).RootElement);
        var options = new ChatOptions { Tools = [weather], ToolMode = ChatToolMode.RequireSpecific("get_weather"), MaxOutputTokens = 100 };
        List<Microsoft.Extensions.AI.ChatMessage> conversation = [new(ChatRole.User, "What is the weather in Paris?")];

        var response = await chat.GetResponseAsync(conversation, options);

        // The backend streamed the input in pieces; the gateway joined them, and the SDK got the whole object.
        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("city value", call.Arguments!["city"]!.ToString());
        Assert.Equal("42", call.Arguments["days"]!.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var asked = fixture.Anthropic.For("tool-claude").Last();
        Assert.Equal($"Bearer {AnthropicSilo.ConfiguredKey}", asked.Headers["authorization"]);
        var tool = Assert.Single(asked.Body["tools"]!.AsArray())!;
        Assert.Equal("get_weather", (string)tool["name"]!);
        Assert.Equal("The weather of a city", (string)tool["description"]!);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(WeatherSchema)!["properties"], tool["input_schema"]!["properties"]));
        Assert.Equal("tool", (string)asked.Body["tool_choice"]!["type"]!);

        // The follow-up: the call and its result, which the backend's model answers with.
        conversation.AddRange(response.Messages);
        conversation.Add(new Microsoft.Extensions.AI.ChatMessage(ChatRole.Tool, [new FunctionResultContent(call.CallId, "18 degrees and sunny")]));
        var followUpOptions = options.Clone();
        followUpOptions.ToolMode = ChatToolMode.Auto;
        var answer = await chat.GetResponseAsync(conversation, followUpOptions);

        Assert.Equal("echo: 18 degrees and sunny", answer.Text);
        var followUp = fixture.Anthropic.For("tool-claude").Last().Body["messages"]!.AsArray();
        var assistant = followUp[^2]!["content"]!.AsArray().Single(b => (string?)b!["type"] == "tool_use")!;
        Assert.Equal(call.CallId, (string)assistant["id"]!);
        Assert.Equal("city value", (string)assistant["input"]!["city"]!);
        var result = followUp[^1]!["content"]!.AsArray().Single(b => (string?)b!["type"] == "tool_result")!;
        Assert.Equal(call.CallId, (string)result["tool_use_id"]!);
        Assert.Contains("18 degrees and sunny", result["content"]!.ToJsonString());
    }

    [Fact]
    public async Task A_streamed_tool_use_reaches_the_sdk_as_one_call()
    {
        IChatClient chat = Client().AsIChatClient("claude-tool");
        var weather = AIFunctionFactory.CreateDeclaration("get_weather", "The weather of a city", JsonDocument.Parse(WeatherSchema).RootElement);
        var calls = new List<FunctionCallContent>();
        await foreach (var update in chat.GetStreamingResponseAsync("Weather in Oslo?", new ChatOptions { Tools = [weather], MaxOutputTokens = 100 }))
            calls.AddRange(update.Contents.OfType<FunctionCallContent>());
        var call = Assert.Single(calls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("42", call.Arguments!["days"]!.ToString());
    }

    [Fact]
    public async Task A_streamed_tool_use_comes_as_anthropic_events_and_two_tool_results_reach_the_backend()
    {
        var tools = new[] { new { name = "get_weather", description = "The weather of a city", input_schema = JsonDocument.Parse(WeatherSchema).RootElement } };
        using var response = await PostAsync(new
        {
            model = "claude-tool", max_tokens = 50, stream = true, tools,
            messages = new[] { new { role = "user", content = "Weather in Rome?" } },
        });
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = ServerSentEvents(await response.Content.ReadAsStringAsync());
        Assert.Equal(["message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"],
            events.Select(e => e.Name));
        var start = events[2].Data.GetProperty("content_block");
        Assert.Equal("tool_use", start.GetProperty("type").GetString());
        Assert.Equal("get_weather", start.GetProperty("name").GetString());
        var input = JsonDocument.Parse(events[3].Data.GetProperty("delta").GetProperty("partial_json").GetString()!).RootElement;
        Assert.Equal("city value", input.GetProperty("city").GetString());
        Assert.Equal("tool_use", events[5].Data.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.Equal(9, events[5].Data.GetProperty("usage").GetProperty("output_tokens").GetInt64());

        // Two calls answered in one user message: two tool turns, which reach the backend as two tool_results.
        var id = start.GetProperty("id").GetString()!;
        using var followUp = await PostAsync(new
        {
            model = "claude-tool", max_tokens = 50, tools,
            messages = new object[]
            {
                new { role = "user", content = "Weather in Rome and Milan?" },
                new { role = "assistant", content = new object[]
                {
                    new { type = "tool_use", id, name = "get_weather", input = new { city = "Rome", days = 1 } },
                    new { type = "tool_use", id = "toolu_second", name = "get_weather", input = new { city = "Milan", days = 1 } },
                } },
                new { role = "user", content = new object[]
                {
                    new { type = "tool_result", tool_use_id = id, content = "sunny in Rome" },
                    new { type = "tool_result", tool_use_id = "toolu_second", content = "no data", is_error = true },
                } },
            },
        });
        followUp.EnsureSuccessStatusCode();
        var results = fixture.Anthropic.For("tool-claude").Last().Body["messages"]!.AsArray()
            .SelectMany(m => m!["content"] as JsonArray ?? []).Where(b => (string?)b!["type"] == "tool_result").ToArray();
        Assert.Equal([id, "toolu_second"], results.Select(r => (string)r!["tool_use_id"]!));
        Assert.Contains("sunny in Rome", results[0]!["content"]!.ToJsonString());
        Assert.True((bool?)results[1]!["is_error"]);
    }

    private static List<(string Name, JsonElement Data)> ServerSentEvents(string stream) =>
        [.. stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(block =>
        {
            var lines = block.Split('\n');
            return (lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))[7..],
                JsonDocument.Parse(lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))[6..]).RootElement.Clone());
        })];

    [Fact]
    public async Task An_image_block_reaches_the_backend_as_base64()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];
        IChatClient chat = Client().AsIChatClient("claude-echo");
        var response = await chat.GetResponseAsync(
            [new Microsoft.Extensions.AI.ChatMessage(ChatRole.User, [new Microsoft.Extensions.AI.TextContent("describe this"), new DataContent(png, "image/png")])],
            new ChatOptions { MaxOutputTokens = 50 });

        Assert.Equal("echo: describe this", response.Text);
        var content = fixture.Anthropic.For("echo-claude").Last().Body["messages"]!.AsArray().Last()!["content"]!.AsArray();
        var image = content.Single(b => (string?)b!["type"] == "image")!;
        Assert.Equal("base64", (string)image["source"]!["type"]!);
        Assert.Equal("image/png", (string)image["source"]!["media_type"]!);
        Assert.Equal(Convert.ToBase64String(png), (string)image["source"]!["data"]!);
    }

    [Fact]
    public async Task The_sdk_gets_an_answer_from_an_openai_compatible_model()
    {
        var message = await Client().Messages.Create(Ask("openai-echo", "across providers"));
        Assert.Equal("echo: across providers", TextOf(message));
        Assert.Equal(11, message.Usage.InputTokens);
        Assert.Equal(StopReason.EndTurn, message.StopReason!.Value());
    }

    [Fact]
    public async Task Plain_http_gets_the_message_shape_and_the_kyros_headers()
    {
        using var response = await PostAsync(new { model = "openai-echo", max_tokens = 20, messages = new[] { new { role = "user", content = "plain http" } } });
        response.EnsureSuccessStatusCode();
        Assert.Equal("openai-echo", response.Headers.GetValues("x-kyros-model").Single());
        Assert.NotEmpty(response.Headers.GetValues("x-kyros-decision-id").Single());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("message", body.GetProperty("type").GetString());
        Assert.Equal("assistant", body.GetProperty("role").GetString());
        Assert.Equal(response.Headers.GetValues("x-kyros-request-id").Single(), body.GetProperty("id").GetString());
        Assert.Equal("echo: plain http", body.GetProperty("content")[0].GetProperty("text").GetString());
        Assert.Equal("end_turn", body.GetProperty("stop_reason").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("stop_sequence").ValueKind);
    }

    [Fact]
    public async Task A_field_kyros_does_not_carry_is_a_400_the_sdk_shows_with_the_field()
    {
        var error = await Assert.ThrowsAsync<AnthropicBadRequestException>(() =>
            Client().Messages.Create(Ask("claude-echo", "hi") with { InferenceGeo = "us" }));
        Assert.Contains("inference_geo", error.ApiMessage);
        Assert.Equal("invalid_request_error", error.Type?.Raw());

        var missing = await Assert.ThrowsAsync<AnthropicNotFoundException>(() => Client().Messages.Create(Ask("claude-17", "hi")));
        Assert.Contains("model 'claude-17'", missing.ApiMessage);
        Assert.Equal("not_found_error", missing.Type?.Raw());
    }

    [Fact]
    public async Task A_wrong_key_is_refused_in_anthropic_shape_by_bearer_or_x_api_key()
    {
        // The SDK sends its key as a bearer token; other Anthropic clients send x-api-key, which the other tests use.
        var refused = await Assert.ThrowsAsync<AnthropicUnauthorizedException>(() => Client("not-a-key").Messages.Create(Ask("claude-echo", "hi")));
        Assert.Equal("authentication_error", refused.Type?.Raw());
        Assert.Contains("not valid", refused.ApiMessage);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = JsonContent.Create(new { model = "claude-echo", max_tokens = 5, messages = Array.Empty<object>() }) };
        request.Headers.Add("x-api-key", "not-a-key-either");
        using var response = await fixture.Silo.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("error", body.GetProperty("type").GetString());
        Assert.Equal("authentication_error", body.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_rate_limited_anthropic_model_is_retried_after_its_retry_after()
    {
        using var response = await PostAsync(new { model = "claude-ratelimit", max_tokens = 20, messages = new[] { new { role = "user", content = "after the limit" } } });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("echo: after the limit", body.GetProperty("content")[0].GetProperty("text").GetString());
        // The wait the backend asked for reached the gateway, though the SDK does not expose its headers.
        var limited = body.GetProperty("kyros").GetProperty("attempts")[0];
        Assert.Equal("rate_limit", limited.GetProperty("error_kind").GetString());
        Assert.Equal(0.1, limited.GetProperty("retry_after_seconds").GetDouble(), 3);
        Assert.Contains("per-minute rate limit", limited.GetProperty("error").GetString());
        Assert.Equal(2, fixture.Anthropic.For("ratelimit-once-claude").Length);
    }

    [Fact]
    public async Task An_overloaded_anthropic_model_fails_as_a_server_error_the_sdk_shows()
    {
        var failed = await Assert.ThrowsAsync<Anthropic5xxException>(() => Client().Messages.Create(Ask("claude-overloaded", "hi")));
        Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
        Assert.Contains("Overloaded", failed.ApiMessage);
        Assert.Equal("api_error", failed.Type?.Raw());
        // A server error is retried: the gateway's retries, then no other model (it was named).
        Assert.True(fixture.Anthropic.For("overloaded-claude").Length > 1);
    }

    private async Task<HttpResponseMessage> PostAsync(object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = JsonContent.Create(body) };
        request.Headers.Add("x-api-key", AnthropicSilo.Key);
        return await fixture.Silo.Http.SendAsync(request);
    }

    [Fact]
    public void The_sdk_errors_classify_as_the_gateway_kinds()
    {
        var model = new ModelDescriptor { Id = "claude", Provider = "anthropic", Endpoint = "https://api.anthropic.com" };
        ProviderException Classify(Exception e) => ProviderErrors.Classify(e, model, TimeSpan.FromSeconds(3), DateTimeOffset.UnixEpoch);
        ProviderException Status(int status, string type) =>
            Classify(AnthropicExceptionFactory.CreateApiException((HttpStatusCode)status, $$$"""{"type":"error","error":{"type":"{{{type}}}","message":"said {{{status}}}"}}"""));

        var limited = Status(429, "rate_limit_error");
        Assert.Equal(("rate_limit", 429, true, false), (limited.ErrorKind, limited.Status, limited.Retryable, limited.CallersFault));
        Assert.Contains("said 429", limited.Message);
        var overloaded = Status(529, "overloaded_error");
        Assert.Equal(("server_error", 529, true), (overloaded.ErrorKind, overloaded.Status, overloaded.Retryable));
        Assert.Equal(("server_error", true), (Status(500, "api_error").ErrorKind, Status(500, "api_error").Retryable));
        var bad = Status(400, "invalid_request_error");
        Assert.Equal(("invalid_request", 400, true, false), (bad.ErrorKind, bad.Status, bad.CallersFault, bad.Retryable));
        // Our key or model is wrong, not the caller's request: another model may answer.
        var unauthorized = Status(401, "authentication_error");
        Assert.Equal(("provider_error", 401, false, false), (unauthorized.ErrorKind, unauthorized.Status, unauthorized.CallersFault, unauthorized.Retryable));
        Assert.Equal("connection_error", Classify(new AnthropicIOException("I/O exception", new HttpRequestException("refused"))).ErrorKind);
        Assert.Equal(("timeout", 408), (Classify(new TaskCanceledException()).ErrorKind, Classify(new TaskCanceledException()).Status));
    }
}
