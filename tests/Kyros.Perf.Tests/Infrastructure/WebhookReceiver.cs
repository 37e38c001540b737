using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>One post a <see cref="WebhookReceiver"/> took: its path, idempotency key, attempt header, body, and what it answered.</summary>
public sealed class ReceivedPost(string path, string? idempotencyKey, int attempt, JsonElement body)
{
    public string Path { get; } = path;
    public string? IdempotencyKey { get; } = idempotencyKey;
    public int Attempt { get; } = attempt;
    public JsonElement Body { get; } = body;
    /// <summary>The status answered; null while held, or when the sender went away first (<see cref="Interrupted"/>).</summary>
    public int? Status { get; set; }
    public bool Interrupted { get; set; }
    public bool Delivered => Status is >= 200 and < 300;
}

/// <summary>
/// A local HTTP receiver of notifications (Kestrel on a free loopback port): every post is kept as it arrived, counted
/// raw (no dedupe), and answered by <see cref="Answer"/> (200 unless a test says otherwise: a status, or a wait).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Channel<ReceivedPost> _arrivals = Channel.CreateUnbounded<ReceivedPost>();

    private WebhookReceiver(WebApplication app, string url) => (_app, Url) = (app, url);

    public string Url { get; }
    public ConcurrentQueue<ReceivedPost> Posts { get; } = new();
    /// <summary>Posts in arrival order, as they come.</summary>
    public ChannelReader<ReceivedPost> Arrivals => _arrivals.Reader;

    /// <summary>How a post is answered: its status, after whatever wait (cancelled when the sender's connection goes away).</summary>
    public Func<ReceivedPost, CancellationToken, Task<int>> Answer { get; set; } = (_, _) => Task.FromResult(StatusCodes.Status200OK);

    public static async Task<WebhookReceiver> StartAsync()
    {
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, url);
        app.MapPost("/{**path}", receiver.TakeAsync);
        await app.StartAsync();
        return receiver;
    }

    private async Task TakeAsync(HttpContext context)
    {
        using var body = await JsonDocument.ParseAsync(context.Request.Body);
        var attempt = int.TryParse(context.Request.Headers["X-Kyros-Delivery-Attempt"].FirstOrDefault(), out var n) ? n : 0;
        var post = new ReceivedPost(context.Request.Path.Value ?? "/", context.Request.Headers["Idempotency-Key"].FirstOrDefault(), attempt, body.RootElement.Clone());
        Posts.Enqueue(post);
        _arrivals.Writer.TryWrite(post);
        try
        {
            // Recorded before the response leaves: once the sender sees its 2xx, the post counts as delivered.
            post.Status = await Answer(post, context.RequestAborted);
            context.Response.StatusCode = post.Status.Value;
        }
        catch (OperationCanceledException)
        {
            post.Interrupted = true;
        }
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
