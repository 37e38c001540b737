using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// An OpenAI-compatible backend that answers at once: "ok", with usage, streamed or not. It keeps the first request it
/// was sent, so that another load generator can replay exactly what the silo sends.
/// </summary>
public sealed class InstantBackend(WebApplication app, string url) : IAsyncDisposable
{
    private static readonly byte[] Completion = Encoding.UTF8.GetBytes(
        """{"id":"c","object":"chat.completion","created":1,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":1,"total_tokens":11}}""");
    private static readonly byte[] Stream = Encoding.UTF8.GetBytes(
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"ok\"},\"finish_reason\":null}]}\n\n" +
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"bench\",\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1,\"total_tokens\":11}}\n\n" +
        "data: [DONE]\n\n");
    /// <summary>The headers a replay repeats; the rest (host, length, connection) are the connection's own.</summary>
    private static readonly string[] Replayed = ["Content-Type", "Accept", "Authorization", "User-Agent"];
    private CapturedRequest? _first;

    public string BaseUrl => url + "/v1";

    /// <summary>The first request, as it reached the backend; null before any.</summary>
    public CapturedRequest? FirstRequest => Volatile.Read(ref _first);

    public static async Task<InstantBackend> StartAsync()
    {
        var url = $"http://127.0.0.1:{ChildProcess.FreePort()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var backend = new InstantBackend(app, url);
        app.MapPost("/v1/chat/completions", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            if (backend.FirstRequest is null)
            {
                var headers = Replayed.Where(h => context.Request.Headers.ContainsKey(h)).Select(h => (h, context.Request.Headers[h].ToString())).ToArray();
                Interlocked.CompareExchange(ref backend._first, new CapturedRequest(Encoding.UTF8.GetString(body.ToArray()), headers), null);
            }
            // The body says whether to stream; a byte search is enough for a benchmark's own requests.
            var streamed = body.GetBuffer().AsSpan(0, (int)body.Length).IndexOf("\"stream\":true"u8) >= 0;
            context.Response.ContentType = streamed ? "text/event-stream" : "application/json";
            await context.Response.Body.WriteAsync(streamed ? Stream : Completion);
        });
        await app.StartAsync();
        return backend;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

/// <summary>A request as it reached a backend: what a replay needs to send the same bytes.</summary>
public sealed record CapturedRequest(string Body, IReadOnlyList<(string Name, string Value)> Headers);
