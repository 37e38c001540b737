using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A local OpenAI-compatible chat completions server on loopback, for the gateway's real HTTP client path. What a
/// model does is in its name: <c>echo*</c> answers, <c>ratelimit-once*</c> answers 429 (Retry-After 0.1) then echoes,
/// <c>broken*</c> answers 500, <c>slow*</c> takes 10 s, <c>drop*</c> breaks the stream off after two words, <c>refuse*</c> answers 400,
/// <c>garbage*</c> streams something that is not JSON. <c>tools*</c> answers a request with tools by calling its first
/// two tools at once (their arguments streamed in fragments, interleaved) and a tool's result by quoting it;
/// <c>json*</c> answers <c>{"city":"Paris"}</c>; <c>refusal*</c> refuses. Asked for logprobs, every content chunk has them.
/// Every chat request it received is in <see cref="ChatRequests"/>.
/// </summary>
public sealed class OpenAiTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OpenAiTestServer(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url + "/v1";
        RootUrl = url;
    }

    public string BaseUrl { get; }
    /// <summary>The server's root, for the providers whose paths are their own (Azure OpenAI, Ollama).</summary>
    public string RootUrl { get; }
    /// <summary>Each Azure OpenAI chat call's deployment, api-version and api-key, and each Ollama chat request, as received.</summary>
    public ConcurrentQueue<(string Deployment, string? ApiVersion, string? ApiKey)> AzureCalls { get; } = new();
    public ConcurrentQueue<JsonElement> OllamaRequests { get; } = new();
    public ConcurrentDictionary<string, int> Calls { get; } = new();
    public ConcurrentQueue<JsonElement> ChatRequests { get; } = new();
    /// <summary>Each chat call's model and the Authorization header it came with.</summary>
    public ConcurrentQueue<(string Model, string? Authorization)> Authorizations { get; } = new();

    /// <summary>The arguments the <c>tools*</c> models call each tool with, streamed in pieces of a few characters.</summary>
    public static readonly string[] ToolArguments = ["""{"city":"Paris","unit":"celsius"}""", """{"query":"weather \"today\"","limit":3}"""];
    public int TotalCalls => Calls.Values.Sum();

    public static async Task<OpenAiTestServer> StartAsync()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var server = new OpenAiTestServer(app, url);
        app.MapPost("/v1/chat/completions", server.CompleteAsync);
        app.MapPost("/openai/deployments/{deployment}/chat/completions", (HttpContext context, string deployment) =>
        {
            server.AzureCalls.Enqueue((deployment, context.Request.Query["api-version"].FirstOrDefault(), context.Request.Headers["api-key"].FirstOrDefault()));
            return server.CompleteAsync(context);
        });
        app.MapPost("/api/chat", server.OllamaChatAsync);
        app.MapPost("/v1/embeddings", server.EmbedAsync);
        await app.StartAsync();
        return server;
    }

    private async Task CompleteAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var root = body.RootElement;
        // Azure names the deployment in the path; its client may leave the body's model out.
        var model = root.TryGetProperty("model", out var named) ? named.GetString()! : (string)context.Request.RouteValues["deployment"]!;
        var calls = Calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        Authorizations.Enqueue((model, context.Request.Headers.Authorization.FirstOrDefault()));
        // "nostream" models answer as some servers do: one plain JSON completion, whatever "stream" says.
        var stream = root.TryGetProperty("stream", out var s) && s.GetBoolean() && !model.StartsWith("nostream", StringComparison.Ordinal);
        var usage = root.TryGetProperty("stream_options", out var o) && o.TryGetProperty("include_usage", out var u) && u.GetBoolean();
        ChatRequests.Enqueue(root.Clone());
        var lastMessage = root.GetProperty("messages").EnumerateArray().Last();
        var last = lastMessage.TryGetProperty("content", out var c) ? c.ValueKind switch
        {
            JsonValueKind.String => c.GetString()!,
            JsonValueKind.Array => string.Concat(c.EnumerateArray().Where(p => p.GetProperty("type").GetString() == "text").Select(p => p.GetProperty("text").GetString())),
            _ => "",
        } : "";
        var logprobs = root.TryGetProperty("logprobs", out var lp) && lp.GetBoolean();
        if (model.StartsWith("tools", StringComparison.Ordinal) && root.TryGetProperty("tools", out var tools) && lastMessage.GetProperty("role").GetString() != "tool")
        {
            await ToolCallsAsync(context, model, [.. tools.EnumerateArray().Take(2).Select(t => t.GetProperty("function").GetProperty("name").GetString()!)], stream);
            return;
        }
        if (model.StartsWith("tools", StringComparison.Ordinal) && lastMessage.GetProperty("role").GetString() == "tool") last = "tool said " + last;
        if (model.StartsWith("json", StringComparison.Ordinal)) last = """{"city":"Paris"}""";
        if (model.StartsWith("refusal", StringComparison.Ordinal) && stream)
        {
            context.Response.ContentType = "text/event-stream";
            await Event(context, Chunk(model, new { role = "assistant", refusal = "" }, null));
            foreach (var piece in new[] { "I can't ", "help with that." }) await Event(context, Chunk(model, new { refusal = piece }, null));
            await Event(context, Chunk(model, new { }, "stop"));
            await context.Response.WriteAsync("data: [DONE]\n\n");
            return;
        }

        if (model.StartsWith("broken", StringComparison.Ordinal)) { await Error(context, 500, "boom"); return; }
        if (model.StartsWith("refuse", StringComparison.Ordinal)) { await Error(context, 400, "the prompt is too long for this model"); return; }
        if (model.StartsWith("ratelimit-once", StringComparison.Ordinal) && calls == 1)
        {
            context.Response.Headers.RetryAfter = "0.1";
            await Error(context, 429, "slow down");
            return;
        }
        if (model.StartsWith("garbage", StringComparison.Ordinal))
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: {this is not json\n\n");
            return;
        }
        if (model.StartsWith("slow", StringComparison.Ordinal)) await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);

        string[] words = model.StartsWith("json", StringComparison.Ordinal) ? [last] : ["echo:", .. last.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        if (!stream)
        {
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["id"] = "chatcmpl-test", ["object"] = "chat.completion", ["created"] = 1, ["model"] = model,
                ["choices"] = new[] { new Dictionary<string, object?> { ["index"] = 0, ["message"] = new { role = "assistant", content = string.Join(' ', words) }, ["finish_reason"] = "stop" } },
                ["usage"] = new { prompt_tokens = 11, completion_tokens = words.Length, total_tokens = 11 + words.Length },
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < words.Length; i++)
        {
            if (model.StartsWith("drop", StringComparison.Ordinal) && i == 2)
            {
                // The stream breaks off in the middle of an event and the connection closes: no finish, no [DONE].
                // (An abort would reset the connection, and a reset may discard the words already sent.)
                await context.Response.WriteAsync("data: {\"id\":\"chatcmpl-test\",\"obj");
                return;
            }
            var piece = (i == 0 ? "" : " ") + words[i];
            await Event(context, Chunk(model, new { content = piece }, null,
                logprobs ? new { content = new[] { new { token = piece, logprob = -0.25 * (i + 1), bytes = System.Text.Encoding.UTF8.GetBytes(piece).Select(b => (int)b),
                    top_logprobs = new[] { new { token = "alt", logprob = -3.0, bytes = new[] { 97, 108, 116 } } } } } } : null));
        }
        await Event(context, Chunk(model, new { }, "stop"));
        if (usage)
            await Event(context, new Dictionary<string, object> { ["id"] = "chatcmpl-test", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model,
                ["choices"] = Array.Empty<object>(), ["usage"] = new { prompt_tokens = 11, completion_tokens = words.Length, total_tokens = 11 + words.Length } });
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    /// <summary>Each <c>/v1/embeddings</c> body as it arrived, in order.</summary>
    public ConcurrentQueue<JsonElement> EmbeddingRequests { get; } = new();

    /// <summary>The tokens the server says each input had (its usage), whatever the text.</summary>
    public const int EmbeddingTokensPerInput = 7;

    /// <summary>
    /// Embeddings as OpenAI answers them: input i's vector is (length of input i + j) / 10 for j below <c>dimensions</c>
    /// (3 when not given), as floats or, with <c>encoding_format: base64</c>, their little-endian bytes. <c>broken*</c> answers 500.
    /// </summary>
    private async Task EmbedAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var root = body.RootElement.Clone();
        EmbeddingRequests.Enqueue(root);
        var model = root.GetProperty("model").GetString()!;
        Calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        if (model.StartsWith("broken", StringComparison.Ordinal)) { await Error(context, 500, "boom"); return; }
        var input = root.GetProperty("input");
        string[] texts = input.ValueKind == JsonValueKind.String ? [input.GetString()!] : [.. input.EnumerateArray().Select(e => e.GetString()!)];
        var dimensions = root.TryGetProperty("dimensions", out var d) ? d.GetInt32() : 3;
        var base64 = root.TryGetProperty("encoding_format", out var f) && f.GetString() == "base64";
        var data = texts.Select((text, i) =>
        {
            var vector = Enumerable.Range(0, dimensions).Select(j => (text.Length + j) / 10f).ToArray();
            object embedding = base64 ? Convert.ToBase64String(vector.SelectMany(BitConverter.GetBytes).ToArray()) : vector;
            return new Dictionary<string, object> { ["object"] = "embedding", ["index"] = i, ["embedding"] = embedding };
        }).ToArray();
        var tokens = EmbeddingTokensPerInput * texts.Length;
        await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
        {
            ["object"] = "list", ["data"] = data, ["model"] = model, ["usage"] = new { prompt_tokens = tokens, total_tokens = tokens },
        });
    }

    /// <summary>
    /// Ollama's own chat API: newline-delimited JSON, the last line <c>done</c> with its counts. Given tools, it calls the
    /// first with <see cref="ToolArguments"/>[0] (Ollama gives arguments as an object); otherwise it echoes.
    /// </summary>
    private async Task OllamaChatAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var root = body.RootElement.Clone();
        OllamaRequests.Enqueue(root);
        var model = root.GetProperty("model").GetString()!;
        var last = root.GetProperty("messages").EnumerateArray().Last();
        context.Response.ContentType = "application/x-ndjson";
        async Task Line(object payload)
        {
            await context.Response.WriteAsync(JsonSerializer.Serialize(payload) + "\n");
            await context.Response.Body.FlushAsync();
        }
        if (root.TryGetProperty("tools", out var tools) && tools.GetArrayLength() > 0 && last.GetProperty("role").GetString() != "tool")
        {
            var name = tools[0].GetProperty("function").GetProperty("name").GetString();
            await Line(new { model, created_at = "2026-01-01T00:00:00Z", message = new { role = "assistant", content = "",
                tool_calls = new[] { new { function = new { name, arguments = JsonDocument.Parse(ToolArguments[0]).RootElement } } } }, done = false });
        }
        else
            foreach (var word in new[] { "echo:", " " + last.GetProperty("content").GetString() })
                await Line(new { model, created_at = "2026-01-01T00:00:00Z", message = new { role = "assistant", content = word }, done = false });
        await Line(new { model, created_at = "2026-01-01T00:00:00Z", message = new { role = "assistant", content = "" }, done = true, done_reason = "stop",
            prompt_eval_count = 9, eval_count = 2, total_duration = 1000 });
    }

    private static Dictionary<string, object> Chunk(string model, object delta, string? finish, object? logprobs = null) => new()
    {
        ["id"] = "chatcmpl-test", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model,
        ["choices"] = new[] { new Dictionary<string, object?> { ["index"] = 0, ["delta"] = delta, ["logprobs"] = logprobs, ["finish_reason"] = finish } },
    };

    /// <summary>
    /// Parallel tool calls as OpenAI streams them: each call opens with its id and name, then the arguments of both
    /// arrive in fragments, interleaved by index (the case gateways get wrong when they assemble by arrival).
    /// </summary>
    private static async Task ToolCallsAsync(HttpContext context, string model, string[] names, bool stream)
    {
        var calls = names.Select((name, i) => (Id: $"call_{i}_{name}", Name: name, Arguments: ToolArguments[i % ToolArguments.Length])).ToArray();
        if (!stream)
        {
            var message = new Dictionary<string, object?>
            {
                ["role"] = "assistant", ["content"] = null,
                ["tool_calls"] = calls.Select(c => new { id = c.Id, type = "function", function = new { name = c.Name, arguments = c.Arguments } }).ToArray(),
            };
            await context.Response.WriteAsJsonAsync(new Dictionary<string, object>
            {
                ["id"] = "chatcmpl-test", ["object"] = "chat.completion", ["created"] = 1, ["model"] = model,
                ["choices"] = new[] { new Dictionary<string, object?> { ["index"] = 0, ["message"] = message, ["finish_reason"] = "tool_calls" } },
                ["usage"] = new { prompt_tokens = 20, completion_tokens = 12, total_tokens = 32 },
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        await Event(context, Chunk(model, new { role = "assistant", content = (string?)null }, null));
        for (var i = 0; i < calls.Length; i++)
            await Event(context, Chunk(model, new { tool_calls = new[] { new { index = i, id = calls[i].Id, type = "function", function = new { name = calls[i].Name, arguments = "" } } } }, null));
        const int piece = 5;
        for (var at = 0; calls.Any(c => at < c.Arguments.Length); at += piece)
            for (var i = 0; i < calls.Length; i++)
                if (at < calls[i].Arguments.Length)
                    await Event(context, Chunk(model, new { tool_calls = new[] { new { index = i, function = new { arguments = calls[i].Arguments.Substring(at, Math.Min(piece, calls[i].Arguments.Length - at)) } } } }, null));
        await Event(context, Chunk(model, new { }, "tool_calls"));
        await Event(context, new Dictionary<string, object> { ["id"] = "chatcmpl-test", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model,
            ["choices"] = Array.Empty<object>(), ["usage"] = new { prompt_tokens = 20, completion_tokens = 12, total_tokens = 32 } });
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static async Task Event(HttpContext context, object payload)
    {
        await context.Response.WriteAsync("data: " + JsonSerializer.Serialize(payload) + "\n\n");
        await context.Response.Body.FlushAsync();
    }

    private static async Task Error(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { error = new { message, type = status == 400 ? "invalid_request_error" : "server_error" } });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
