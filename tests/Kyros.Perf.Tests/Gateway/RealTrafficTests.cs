using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kyros.Perf.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// What real applications send, through the official OpenAI .NET client, the silo and a local OpenAI-compatible
/// backend: tools (plain and streamed), tool results, images, structured output, sampling fields, logprobs, n; each
/// asserted at both ends: what the backend received and what the client got.
/// </summary>
public sealed class RealTrafficTests(RealTrafficSilo fixture) : IClassFixture<RealTrafficSilo>
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string","description":"The city"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"],"additionalProperties":false}""";
    private const string SearchSchema = """{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer","minimum":1}},"required":["query"]}""";

    private static readonly ChatTool[] Tools =
    [
        ChatTool.CreateFunctionTool("get_weather", "The weather in a city", BinaryData.FromString(WeatherSchema), functionSchemaIsStrict: true),
        ChatTool.CreateFunctionTool("search", "Searches the web", BinaryData.FromString(SearchSchema)),
    ];

    private HttpClient Http => fixture.Silo.Http;

    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Silo.Http.BaseAddress!, "/v1") });

    /// <summary>The last chat request the backend received for <paramref name="model"/>.</summary>
    private JsonElement Received(string model) => fixture.Backend.ChatRequests.Last(r => r.GetProperty("model").GetString() == model);

    private static bool SameJson(string expected, JsonElement actual) => JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual.GetRawText()));

    [Fact]
    public async Task Tools_reach_the_model_byte_for_byte_and_its_parallel_tool_calls_come_back()
    {
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateAutoChoice(), AllowParallelToolCalls = true };
        foreach (var tool in Tools) options.Tools.Add(tool);
        ChatCompletion completion = await Client("tools").CompleteChatAsync([new UserChatMessage("Weather in Paris?")], options);

        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal(["get_weather", "search"], completion.ToolCalls.Select(c => c.FunctionName));
        Assert.Equal(["call_0_get_weather", "call_1_search"], completion.ToolCalls.Select(c => c.Id));
        for (var i = 0; i < 2; i++)
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OpenAiTestServer.ToolArguments[i]), JsonNode.Parse(completion.ToolCalls[i].FunctionArguments.ToString())));

        var received = Received("tools");
        var tools = received.GetProperty("tools").EnumerateArray().ToArray();
        Assert.Equal(["get_weather", "search"], tools.Select(t => t.GetProperty("function").GetProperty("name").GetString()));
        Assert.True(SameJson(WeatherSchema, tools[0].GetProperty("function").GetProperty("parameters")));
        Assert.True(SameJson(SearchSchema, tools[1].GetProperty("function").GetProperty("parameters")));
        Assert.True(tools[0].GetProperty("function").GetProperty("strict").GetBoolean());
        Assert.Equal("The weather in a city", tools[0].GetProperty("function").GetProperty("description").GetString());
        Assert.Equal("auto", received.GetProperty("tool_choice").GetString());
        Assert.True(received.GetProperty("parallel_tool_calls").GetBoolean());
    }

    [Fact]
    public async Task Streamed_tool_calls_assemble_by_index_across_chunks_into_the_models_arguments()
    {
        var options = new ChatCompletionOptions { ToolChoice = ChatToolChoice.CreateFunctionChoice("get_weather") };
        foreach (var tool in Tools) options.Tools.Add(tool);
        var ids = new Dictionary<int, string>();
        var names = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        var chunksWithArguments = 0;
        ChatFinishReason? finish = null;
        await foreach (var update in Client("tools").CompleteChatStreamingAsync([new UserChatMessage("Weather in Paris?")], options))
        {
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.ToolCallId is { } id) ids[call.Index] = id;
                if (call.FunctionName is { } name) names[call.Index] = name;
                var piece = call.FunctionArgumentsUpdate?.ToString() ?? "";
                if (piece.Length > 0) chunksWithArguments++;
                (arguments.TryGetValue(call.Index, out var text) ? text : arguments[call.Index] = new StringBuilder()).Append(piece);
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal(["call_0_get_weather", "call_1_search"], ids.OrderBy(p => p.Key).Select(p => p.Value));
        Assert.Equal(["get_weather", "search"], names.OrderBy(p => p.Key).Select(p => p.Value));
        for (var i = 0; i < 2; i++)
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OpenAiTestServer.ToolArguments[i]), JsonNode.Parse(arguments[i].ToString())), arguments[i].ToString());
        // The arguments came in pieces, as a model streams them, not in one chunk each.
        Assert.True(chunksWithArguments > 2, $"{chunksWithArguments} chunks carried arguments");
        var choice = Received("tools").GetProperty("tool_choice");
        Assert.Equal("get_weather", choice.GetProperty("function").GetProperty("name").GetString());

        // The model's summary counts the tool calls of its answers.
        var summary = await Eventually.UntilAsync(async () => JsonDocument.Parse(await Http.GetStringAsync("/v1/performance/models/tools?window=1h")).RootElement,
            body => body.GetProperty("tool_calls").GetInt64() >= 2);
        Assert.True(summary.GetProperty("tool_calls").GetInt64() >= 2);
    }

    [Fact]
    public async Task A_tool_result_goes_back_to_the_model_with_the_call_it_answers()
    {
        ChatMessage[] messages =
        [
            new UserChatMessage("Weather in Paris?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_7", "get_weather", BinaryData.FromString("""{"city":"Paris"}"""))]),
            new ToolChatMessage("call_7", "18 degrees"),
        ];
        var options = new ChatCompletionOptions();
        foreach (var tool in Tools) options.Tools.Add(tool);
        ChatCompletion completion = await Client("tools").CompleteChatAsync(messages, options);
        Assert.Equal("echo: tool said 18 degrees", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);

        var sent = Received("tools").GetProperty("messages").EnumerateArray().ToArray();
        Assert.Equal(["user", "assistant", "tool"], sent.Select(m => m.GetProperty("role").GetString()));
        var call = sent[1].GetProperty("tool_calls")[0];
        Assert.Equal(("call_7", "get_weather"), (call.GetProperty("id").GetString(), call.GetProperty("function").GetProperty("name").GetString()));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"city":"Paris"}"""), JsonNode.Parse(call.GetProperty("function").GetProperty("arguments").GetString()!)));
        Assert.Equal("call_7", sent[2].GetProperty("tool_call_id").GetString());
        Assert.Equal("18 degrees", sent[2].GetProperty("content").ValueKind == JsonValueKind.String
            ? sent[2].GetProperty("content").GetString()
            : sent[2].GetProperty("content")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Images_reach_a_vision_model_as_data_and_as_urls()
    {
        var png = new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4 };
        var message = new UserChatMessage(
            ChatMessageContentPart.CreateTextPart("What is in these?"),
            ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(png), "image/png", ChatImageDetailLevel.Low),
            ChatMessageContentPart.CreateImagePart(new Uri("https://example.com/cat.jpg")));
        ChatCompletion completion = await Client("tools").CompleteChatAsync([message]);
        Assert.Equal("echo: What is in these?", completion.Content[0].Text);

        var parts = Received("tools").GetProperty("messages")[0].GetProperty("content").EnumerateArray().ToArray();
        Assert.Equal(["text", "image_url", "image_url"], parts.Select(p => p.GetProperty("type").GetString()));
        Assert.Equal($"data:image/png;base64,{Convert.ToBase64String(png)}", parts[1].GetProperty("image_url").GetProperty("url").GetString());
        Assert.Equal("low", parts[1].GetProperty("image_url").GetProperty("detail").GetString());
        Assert.Equal("https://example.com/cat.jpg", parts[2].GetProperty("image_url").GetProperty("url").GetString());

        // A model without vision is never given an image: named, it is refused, naming what it lacks.
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client("plain").CompleteChatAsync([message]));
        Assert.Equal(400, refused.Status);
        Assert.Contains("vision", refused.Message);
    }

    [Fact]
    public async Task A_json_schema_reaches_the_model_as_sent_and_its_json_comes_back()
    {
        const string schema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}""";
        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("city_answer", BinaryData.FromString(schema), "Where", jsonSchemaIsStrict: true) };
        ChatCompletion completion = await Client("json").CompleteChatAsync([new UserChatMessage("Which city?")], options);
        Assert.Equal("Paris", JsonDocument.Parse(completion.Content[0].Text).RootElement.GetProperty("city").GetString());

        var format = Received("json").GetProperty("response_format");
        Assert.Equal("json_schema", format.GetProperty("type").GetString());
        var sent = format.GetProperty("json_schema");
        Assert.Equal(("city_answer", "Where", true), (sent.GetProperty("name").GetString(), sent.GetProperty("description").GetString(), sent.GetProperty("strict").GetBoolean()));
        Assert.True(SameJson(schema, sent.GetProperty("schema")));

        // A model without structured_output is not given a schema: 400 naming the capability.
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client("plain").CompleteChatAsync([new UserChatMessage("Which city?")], options));
        Assert.Equal(400, refused.Status);
        Assert.Contains("structured_output", refused.Message);
    }

    [Fact]
    public async Task Sampling_fields_user_metadata_and_logprobs_are_carried_and_logprobs_come_back()
    {
        var options = new ChatCompletionOptions
        {
            TopP = 0.5f, PresencePenalty = 0.25f, FrequencyPenalty = -0.5f, Temperature = 0.3f, IncludeLogProbabilities = true, TopLogProbabilityCount = 1,
#pragma warning disable CS0618
            EndUserId = "user-17",
#pragma warning restore CS0618
            StopSequences = { "END", "STOP" },
            Metadata = { ["team"] = "search" },
        };
#pragma warning disable OPENAI001
        options.Seed = 42;
#pragma warning restore OPENAI001
        ChatCompletion completion = await Client("plain").CompleteChatAsync([new UserChatMessage("two words")], options);
        Assert.Equal("echo: two words", completion.Content[0].Text);
        Assert.Equal([" two", " words"], completion.ContentTokenLogProbabilities.Skip(1).Select(t => t.Token));
        Assert.Equal(-0.5, completion.ContentTokenLogProbabilities[1].LogProbability, 6);
        Assert.Equal("alt", completion.ContentTokenLogProbabilities[1].TopLogProbabilities[0].Token);

        var received = Received("plain");
        Assert.Equal(42, received.GetProperty("seed").GetInt64());
        Assert.Equal(0.5, received.GetProperty("top_p").GetDouble(), 6);
        Assert.Equal(0.25, received.GetProperty("presence_penalty").GetDouble(), 6);
        Assert.Equal(-0.5, received.GetProperty("frequency_penalty").GetDouble(), 6);
        Assert.Equal(0.3, received.GetProperty("temperature").GetDouble(), 6);
        Assert.Equal(["END", "STOP"], received.GetProperty("stop").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("user-17", received.GetProperty("user").GetString());
        Assert.Equal("search", received.GetProperty("metadata").GetProperty("team").GetString());
        Assert.True(received.GetProperty("logprobs").GetBoolean());
        Assert.Equal(1, received.GetProperty("top_logprobs").GetInt32());
    }

    [Fact]
    public async Task N_answers_are_n_calls_each_recorded_and_every_choice_comes_back()
    {
        var before = fixture.Backend.Calls.GetValueOrDefault("plain");
        var response = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "plain", "n": 3, "messages": [{"role": "user", "content": "three times"}]}"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var choices = body.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.All(choices, c => Assert.Equal("echo: three times", c.GetProperty("message").GetProperty("content").GetString()));
        Assert.Equal(3, fixture.Backend.Calls["plain"] - before);
        Assert.Equal(3 * 11, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());

        var streamed = await Http.PostAsync("/v1/chat/completions", Json("""{"model": "plain", "n": 2, "stream": true, "messages": [{"role": "user", "content": "x"}]}"""));
        await AssertProblem(streamed, "n");
    }

    [Fact]
    public async Task A_refusal_comes_back_as_a_refusal_plain_and_streamed()
    {
        var raw = await (await Http.PostAsync("/v1/chat/completions", Json("""{"model": "refusal", "stream": true, "messages": [{"role": "user", "content": "x"}]}"""))).Content.ReadAsStringAsync();
        Assert.Contains("refusal", raw);
        var text = new StringBuilder();
        await foreach (var update in Client("refusal").CompleteChatStreamingAsync([new UserChatMessage("something bad")]))
            text.Append(update.RefusalUpdate);
        Assert.Equal("I can't help with that.", text.ToString());
    }

    [Fact]
    public async Task Auto_routing_sends_tools_only_to_models_with_the_tools_capability()
    {
        for (var i = 0; i < 6; i++)
        {
            var response = await Http.PostAsync("/v1/chat/completions", Json($$$"""
                {"model": "auto", "messages": [{"role": "user", "content": "Weather in Paris?"}],
                 "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {{{WeatherSchema}}}}}]}
                """));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Contains(response.Headers.GetValues("x-kyros-model").Single(), new[] { "tools", "sim-tools" });
        }
    }

    [Fact]
    public async Task The_simulated_model_calls_the_required_tool_with_arguments_that_fit_its_schema_and_answers_a_schema_with_fitting_json()
    {
        var response = await Http.PostAsync("/v1/chat/completions", Json($$$"""
            {"model": "sim-tools", "messages": [{"role": "user", "content": "Weather?"}], "tool_choice": "required",
             "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {{{WeatherSchema}}}}}]}
            """));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("true", response.Headers.GetValues("x-kyros-simulated").Single());
        var choice = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
        Assert.Equal("tool_calls", choice.GetProperty("finish_reason").GetString());
        var call = choice.GetProperty("message").GetProperty("tool_calls")[0].GetProperty("function");
        Assert.Equal("get_weather", call.GetProperty("name").GetString());
        var arguments = JsonDocument.Parse(call.GetProperty("arguments").GetString()!).RootElement;
        Assert.Equal(JsonValueKind.String, arguments.GetProperty("city").ValueKind);
        Assert.Equal("celsius", arguments.GetProperty("unit").GetString());

        var structured = await Http.PostAsync("/v1/chat/completions", Json($$$"""
            {"model": "sim-tools", "messages": [{"role": "user", "content": "Search?"}],
             "response_format": {"type": "json_schema", "json_schema": {"name": "q", "schema": {{{SearchSchema}}} } } }
            """));
        var structuredText = await structured.Content.ReadAsStringAsync();
        Assert.True(structured.StatusCode == HttpStatusCode.OK, structuredText);
        var answer = JsonDocument.Parse(structuredText).RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        var json = JsonDocument.Parse(answer).RootElement;
        Assert.Equal(JsonValueKind.String, json.GetProperty("query").ValueKind);
        Assert.True(json.GetProperty("limit").GetInt32() >= 1);
    }

    [Theory]
    [InlineData("""{"functions": []}""", "functions")]
    [InlineData("""{"function_call": "auto"}""", "function_call")]
    [InlineData("""{"logit_bias": {"50256": -100}}""", "logit_bias")]
    [InlineData("""{"audio": {"voice": "alloy", "format": "wav"}}""", "audio")]
    [InlineData("""{"modalities": ["text", "audio"]}""", "modalities")]
    [InlineData("""{"prediction": {"type": "content", "content": "x"}}""", "prediction")]
    [InlineData("""{"reasoning_effort": "low"}""", "reasoning_effort")]
    [InlineData("""{"service_tier": "flex"}""", "service_tier")]
    [InlineData("""{"web_search_options": {}}""", "web_search_options")]
    [InlineData("""{"store": true}""", "store")]
    [InlineData("""{"made_up_field": 1}""", "made_up_field")]
    [InlineData("""{"n": 0}""", "n")]
    [InlineData("""{"top_p": 1.5}""", "top_p")]
    [InlineData("""{"presence_penalty": 3}""", "presence_penalty")]
    [InlineData("""{"top_logprobs": 2}""", "top_logprobs")]
    [InlineData("""{"logprobs": true, "top_logprobs": 21}""", "top_logprobs")]
    [InlineData("""{"stream_options": {"include_usage": true}}""", "stream_options")]
    [InlineData("""{"metadata": {"k": 1}}""", "metadata.k")]
    [InlineData("""{"tools": [{"type": "code_interpreter"}]}""", "tools[0].type")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "bad name"}}]}""", "tools[0].function.name")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": "f", "parameters": []}}]}""", "tools[0].function.parameters")]
    [InlineData("""{"tool_choice": {"type": "function", "function": {"name": "nowhere"}}, "tools": [{"type": "function", "function": {"name": "f"}}]}""", "tool_choice")]
    [InlineData("""{"parallel_tool_calls": true}""", "parallel_tool_calls")]
    [InlineData("""{"response_format": {"type": "yaml"}}""", "response_format.type")]
    [InlineData("""{"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}}""", "response_format.json_schema.name")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "file", "file": {}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "ftp://x/y.png"}}]}]}""", "messages[0].content[0].image_url.url")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "flac"}}]}]}""", "messages[0].content[0].input_audio.format")]
    [InlineData("""{"messages": [{"role": "tool", "content": "18 degrees"}]}""", "messages[0].tool_call_id")]
    [InlineData("""{"messages": [{"role": "user", "content": "hi", "audio": {"id": "x"}}]}""", "messages[0].audio")]
    [InlineData("""{"messages": [{"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "not json"}}]}, {"role": "user", "content": "hi"}]}""", "messages[0].tool_calls[0].function.arguments")]
    public async Task A_field_that_is_not_carried_or_is_wrong_is_refused_with_400_naming_it_and_no_model_is_called(string overrides, string field)
    {
        var body = JsonNode.Parse("""{"model": "plain", "messages": [{"role": "user", "content": "hi"}]}""")!.AsObject();
        foreach (var (name, value) in JsonNode.Parse(overrides)!.AsObject()) body[name] = value?.DeepClone();
        var before = fixture.Backend.TotalCalls;
        var response = await Http.PostAsync("/v1/chat/completions", Json(body.ToJsonString()));
        await AssertProblem(response, field);
        Assert.Equal(before, fixture.Backend.TotalCalls);
    }

    [Fact]
    public async Task A_field_only_some_providers_take_is_refused_naming_it_when_no_candidates_provider_takes_it()
    {
        // Input audio reaches an OpenAI-compatible model; the simulated and openai-compatible providers take logprobs.
        var audio = await Http.PostAsync("/v1/chat/completions", Json("""
            {"model": "plain", "messages": [{"role": "user", "content": [{"type": "text", "text": "listen"}, {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]}]}
            """));
        Assert.Equal(HttpStatusCode.OK, audio.StatusCode);
        var part = Received("plain").GetProperty("messages")[0].GetProperty("content")[1];
        Assert.Equal("input_audio", part.GetProperty("type").GetString());
        Assert.Equal(("UklGRg==", "wav"), (part.GetProperty("input_audio").GetProperty("data").GetString(), part.GetProperty("input_audio").GetProperty("format").GetString()));
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task AssertProblem(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {text}");
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal(field, problem.GetProperty("field").GetString());
    }
}
