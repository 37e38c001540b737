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
/// <c>garbage*</c> streams something that is not JSON.
/// </summary>
public sealed class OpenAiTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OpenAiTestServer(WebApplication app, string url)
    {
        _app = app;
        BaseUrl = url + "/v1";
    }

    public string BaseUrl { get; }
    public ConcurrentDictionary<string, int> Calls { get; } = new();
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
        await app.StartAsync();
        return server;
    }

    private async Task CompleteAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var root = body.RootElement;
        var model = root.GetProperty("model").GetString()!;
        var calls = Calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        // "nostream" models answer as some servers do: one plain JSON completion, whatever "stream" says.
        var stream = root.TryGetProperty("stream", out var s) && s.GetBoolean() && !model.StartsWith("nostream", StringComparison.Ordinal);
        var usage = root.TryGetProperty("stream_options", out var o) && o.TryGetProperty("include_usage", out var u) && u.GetBoolean();
        var last = root.GetProperty("messages").EnumerateArray().Last().GetProperty("content").GetString() ?? "";

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

        string[] words = ["echo:", .. last.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
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
            await Event(context, Chunk(model, new { content = (i == 0 ? "" : " ") + words[i] }, null));
        }
        await Event(context, Chunk(model, new { }, "stop"));
        if (usage)
            await Event(context, new Dictionary<string, object> { ["id"] = "chatcmpl-test", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model,
                ["choices"] = Array.Empty<object>(), ["usage"] = new { prompt_tokens = 11, completion_tokens = words.Length, total_tokens = 11 + words.Length } });
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static Dictionary<string, object> Chunk(string model, object delta, string? finish) => new()
    {
        ["id"] = "chatcmpl-test", ["object"] = "chat.completion.chunk", ["created"] = 1, ["model"] = model,
        ["choices"] = new[] { new Dictionary<string, object?> { ["index"] = 0, ["delta"] = delta, ["finish_reason"] = finish } },
    };

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
