using Kyros.Perf.Gateway;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary>A generation streamed to a caller in a vendor's event format (OpenAI's chunks, Anthropic's named events).</summary>
public interface IStreamedAnswer : IGenerationObserver
{
    /// <summary>Whether the first event has been sent (then a failure can only be an error event).</summary>
    bool Started { get; }

    Task FinishAsync(GenerateResult result);

    Task FailAsync(string message);
}

public static class StreamedAnswer
{
    /// <summary>
    /// One generation for a vendor-shaped endpoint, through the response cache: a cacheable request is looked up first
    /// (<c>x-kyros-cache: hit|miss</c>) and a hit answered at once, streamed or whole as asked; a miss, once answered,
    /// is kept. A request that is not cacheable (the common case) touches no store and carries no cache header.
    /// </summary>
    /// <param name="stream">The events to stream into; null for a whole answer written by <paramref name="writeWhole"/>.</param>
    public static async Task RespondAsync(HttpContext context, ModelGateway gateway, ResponseCache cache, TimeProvider time, GenerateRequest request,
        IStreamedAnswer? stream, Func<GenerateResult, Task> writeWhole)
    {
        var headerTtl = context.Request.Headers.TryGetValue(ResponseCache.TtlHeader, out var ttlHeader) ? ResponseCache.ParseTtl(ttlHeader.ToString()) : null;
        var key = cache.KeyFor(request, headerTtl);
        if (key is not null)
        {
            var started = time.GetTimestamp();
            var cached = await cache.GetAsync(key, context.RequestAborted);
            context.Response.Headers[ResponseCache.StatusHeader] = cached is null ? "miss" : "hit";
            if (cached is not null)
            {
                var hit = cache.Answer(cached, request, key, started);
                if (stream is not null) await ReplayAsync(hit, stream);
                else await writeWhole(hit);
                return;
            }
        }
        if (stream is null)
        {
            var result = await gateway.GenerateAsync(request, null, ApiKeyMiddleware.CallerOf(context), context.RequestAborted);
            await writeWhole(result);
            if (key is not null) await cache.StoreAsync(key, headerTtl, result);
            return;
        }
        if (await RunAsync(gateway, request, stream, context) is { } streamed && key is not null) await cache.StoreAsync(key, headerTtl, streamed);
    }

    /// <summary>
    /// Generates into <paramref name="stream"/>. A failure before the first event is thrown (and answered as an error
    /// response); after it, it reaches the client as an error event, never as a clean end.
    /// </summary>
    /// <returns>The result once the stream finished cleanly; null when it ended with an error event.</returns>
    public static async Task<GenerateResult?> RunAsync(ModelGateway gateway, GenerateRequest request, IStreamedAnswer stream, HttpContext context)
    {
        try
        {
            var result = await gateway.GenerateAsync(request, stream, ApiKeyMiddleware.CallerOf(context), context.RequestAborted);
            await stream.FinishAsync(result);
            return result;
        }
        catch (Exception e) when (stream.Started && e is GenerationFailedException or OperationCanceledException)
        {
            if (!context.RequestAborted.IsCancellationRequested) await stream.FailAsync(e.Message);
            return null;
        }
    }

    /// <summary>A cached answer streamed as a model's would be: its text, refusal and tool calls, then the finish (with usage when asked).</summary>
    public static async Task ReplayAsync(GenerateResult result, IStreamedAnswer stream)
    {
        await stream.OnStartAsync(result.Model, result.Decision, result.RequestId, result.Simulated);
        if (result.Text.Length > 0) await stream.OnTextAsync(result.Text, null);
        if (result.Refusal is { } refusal) await stream.OnRefusalAsync(refusal);
        for (var i = 0; i < result.ToolCalls.Count; i++) await stream.OnToolCallAsync(i, result.ToolCalls[i]);
        await stream.FinishAsync(result);
    }
}
