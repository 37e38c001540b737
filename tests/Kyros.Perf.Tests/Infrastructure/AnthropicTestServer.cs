using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A local server of Anthropic's Messages API (<c>POST /v1/messages</c>) on loopback, speaking its wire protocol: plain
/// JSON, or server-sent events with the named events (message_start, content_block_*, message_delta, message_stop, ping).
/// What a model does is in its name: <c>echo*</c> echoes the last user text; <c>tool*</c> calls the first tool with
/// arguments that fit its schema, streamed in several input_json_delta pieces (and, given a tool_result, echoes it);
/// <c>overloaded*</c> answers 529; <c>ratelimit-once*</c> answers 429 (retry-after 0.1) once, then echoes.
/// Every request it received is kept, body and headers, for tests to assert.
/// </summary>
public sealed class AnthropicTestServer : IAsyncDisposable
{
    public const int InputTokens = 13;
    private readonly WebApplication _app;

    private AnthropicTestServer(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url;
    }

    /// <summary>The API base, as a catalog's Endpoint or the SDK's BaseUrl take it (the SDK adds /v1/messages).</summary>
    public string BaseUrl { get; }
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();

    /// <summary>The requests received for one model (its <c>model</c> field), in order.</summary>
    public ReceivedRequest[] For(string model) => [.. Received.Where(r => r.Model == model)];

    public static async Task<AnthropicTestServer> StartAsync()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new AnthropicTestServer(app, url);
        app.MapPost("/v1/messages", server.MessagesAsync);
        await app.StartAsync();
        return server;
    }

    private async Task MessagesAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body) ?? throw new InvalidOperationException("empty body");
        var model = (string)body["model"]!;
        Received.Enqueue(new ReceivedRequest(model, body, context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString())));
        var calls = _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        if (model.StartsWith("overloaded", StringComparison.Ordinal)) { await Error(context, 529, "overloaded_error", "Overloaded"); return; }
        if (model.StartsWith("ratelimit-once", StringComparison.Ordinal) && calls == 1)
        {
            context.Response.Headers.RetryAfter = "0.1";
            await Error(context, 429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit");
            return;
        }

        var last = body["messages"]!.AsArray().Last()!;
        var toolResult = Blocks(last).FirstOrDefault(b => (string?)b["type"] == "tool_result");
        var tool = body["tools"]?.AsArray().FirstOrDefault();
        // A tool model calls its first tool; given that call's result, it answers with it, as a real model would.
        var answer = model.StartsWith("tool", StringComparison.Ordinal) && tool is not null && toolResult is null
            ? Answer.Call($"toolu_{Guid.NewGuid():N}"[..24], (string)tool["name"]!, ArgumentsFor(tool["input_schema"]))
            : Answer.Text(["echo:", .. TextOf((toolResult ?? last)["content"]).Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        var id = $"msg_test_{calls}";
        if (body["stream"]?.GetValue<bool>() == true) await StreamAsync(context, id, model, answer);
        else await context.Response.WriteAsJsonAsync(Message(id, model, answer, answer.ContentJson(), answer.OutputTokens));
    }

    private static async Task StreamAsync(HttpContext context, string id, string model, Answer answer)
    {
        context.Response.ContentType = "text/event-stream";
        // message_start carries the input tokens and no content yet, as Anthropic's does.
        await Event(context, "message_start", new JsonObject { ["type"] = "message_start", ["message"] = Message(id, model, answer, new JsonArray(), 1) });
        await Event(context, "ping", new JsonObject { ["type"] = "ping" });
        if (answer.Words is { } words)
        {
            await Event(context, "content_block_start", new JsonObject { ["type"] = "content_block_start", ["index"] = 0, ["content_block"] = new JsonObject { ["type"] = "text", ["text"] = "" } });
            for (var i = 0; i < words.Length; i++)
                await Event(context, "content_block_delta", Delta(0, new JsonObject { ["type"] = "text_delta", ["text"] = (i == 0 ? "" : " ") + words[i] }));
        }
        else
        {
            await Event(context, "content_block_start", new JsonObject
            {
                ["type"] = "content_block_start", ["index"] = 0,
                ["content_block"] = new JsonObject { ["type"] = "tool_use", ["id"] = answer.CallId, ["name"] = answer.ToolName, ["input"] = new JsonObject() },
            });
            // The input's JSON in pieces that split names and values, so a client must join them before it parses.
            var json = answer.Arguments!.ToJsonString();
            for (var at = 0; at < json.Length; at += 7)
                await Event(context, "content_block_delta", Delta(0, new JsonObject { ["type"] = "input_json_delta", ["partial_json"] = json[at..Math.Min(at + 7, json.Length)] }));
        }
        await Event(context, "content_block_stop", new JsonObject { ["type"] = "content_block_stop", ["index"] = 0 });
        await Event(context, "message_delta", new JsonObject
        {
            ["type"] = "message_delta",
            ["delta"] = new JsonObject { ["stop_reason"] = answer.StopReason, ["stop_sequence"] = null },
            // Cumulative, as the API's are: the input tokens again beside the output tokens.
            ["usage"] = new JsonObject { ["input_tokens"] = InputTokens, ["output_tokens"] = answer.OutputTokens },
        });
        await Event(context, "message_stop", new JsonObject { ["type"] = "message_stop" });
    }

    private static JsonObject Message(string id, string model, Answer answer, JsonArray content, int outputTokens) => new()
    {
        ["id"] = id, ["type"] = "message", ["role"] = "assistant", ["model"] = model, ["content"] = content,
        ["stop_reason"] = content.Count == 0 ? null : answer.StopReason, ["stop_sequence"] = null,
        ["usage"] = new JsonObject { ["input_tokens"] = InputTokens, ["output_tokens"] = outputTokens },
    };

    private static JsonObject Delta(int index, JsonObject delta) => new() { ["type"] = "content_block_delta", ["index"] = index, ["delta"] = delta };

    private static IEnumerable<JsonNode> Blocks(JsonNode message) =>
        message["content"] is JsonArray blocks ? blocks.OfType<JsonNode>() : [];

    /// <summary>A message's or a tool_result's content: a string, or the text of its text blocks.</summary>
    private static string TextOf(JsonNode? content) => content switch
    {
        JsonValue text => (string)text!,
        JsonArray blocks => string.Join(' ', blocks.Where(b => (string?)b?["type"] == "text").Select(b => (string)b!["text"]!)),
        _ => "",
    };

    /// <summary>Arguments that fit the tool's schema: each property a value of its type (strings name themselves).</summary>
    private static JsonObject ArgumentsFor(JsonNode? schema)
    {
        var arguments = new JsonObject();
        if (schema?["properties"] is not JsonObject properties) return arguments;
        foreach (var (name, property) in properties)
            arguments[name] = (string?)property?["type"] switch
            {
                "integer" or "number" => 42,
                "boolean" => true,
                "array" => new JsonArray(),
                "object" => new JsonObject(),
                _ => property?["enum"] is JsonArray { Count: > 0 } values ? values[0]!.DeepClone() : $"{name} value",
            };
        return arguments;
    }

    private static async Task Event(HttpContext context, string name, JsonObject data)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {data.ToJsonString()}\n\n");
        await context.Response.Body.FlushAsync();
    }

    private static async Task Error(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { type = "error", error = new { type, message } });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>One request as received: its model, its body, and its headers (names in lower case).</summary>
    public sealed record ReceivedRequest(string Model, JsonNode Body, IReadOnlyDictionary<string, string> Headers);

    /// <summary>What the model answers: words of text, or one tool call.</summary>
    private sealed record Answer(string[]? Words, string? CallId, string? ToolName, JsonObject? Arguments)
    {
        public static Answer Text(string[] words) => new(words, null, null, null);
        public static Answer Call(string id, string name, JsonObject arguments) => new(null, id, name, arguments);
        public string StopReason => Words is null ? "tool_use" : "end_turn";
        public int OutputTokens => Words?.Length ?? 9;

        public JsonArray ContentJson() => Words is { } words
            ? [new JsonObject { ["type"] = "text", ["text"] = string.Join(' ', words) }]
            : [new JsonObject { ["type"] = "tool_use", ["id"] = CallId, ["name"] = ToolName, ["input"] = Arguments!.DeepClone() }];
    }
}
