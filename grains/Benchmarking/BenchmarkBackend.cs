using System.Diagnostics;
using System.Text;
using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Benchmarking;

/// <summary>One request as the runner measures it; times in seconds from the send.</summary>
public readonly record struct BenchmarkCall(double Latency, double? Ttft, int InputTokens, int OutputTokens, bool Success, string? ErrorKind, double Cost, string Text);

/// <summary>Sends one benchmark request to a model.</summary>
public interface IBenchmarkBackend
{
    Task<BenchmarkCall> CallAsync(ModelDescriptor model, string prompt, int maxTokens, string requestId, bool recordLive, CancellationToken cancellationToken);
}

/// <summary>
/// The gateway's own providers (the same <see cref="IChatClient"/>s, simulated or OpenAI-compatible), streamed so that the
/// first token is timed, with no retry and no fallback: an error is measured, not hidden. With <c>recordLive</c>, each call
/// also feeds the live statistics, as a gateway call does.
/// </summary>
public sealed class GatewayBenchmarkBackend(ChatClients clients, GatewayRecorder recorder, TimeProvider time) : IBenchmarkBackend
{
    public async Task<BenchmarkCall> CallAsync(ModelDescriptor model, string prompt, int maxTokens, string requestId, bool recordLive,
        CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = Stopwatch.GetTimestamp();
        var inputTokens = (int)Math.Min(int.MaxValue, PromptTokens.Count(prompt, model.Tokenizer));
        var text = new StringBuilder();
        double? ttft = null;
        UsageDetails? usage = null;
        var timeout = TimeSpan.FromSeconds(model.TimeoutSeconds);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var options = new ChatOptions { MaxOutputTokens = Math.Min(maxTokens, model.MaxOutputTokens) };
            await foreach (var update in clients.For(model).GetStreamingResponseAsync([new ChatMessage(ChatRole.User, prompt)], options, deadline.Token))
            {
                foreach (var content in update.Contents)
                    if (content is UsageContent u) usage = u.Details;
                if (string.IsNullOrEmpty(update.Text)) continue;
                ttft ??= Stopwatch.GetElapsedTime(started).TotalSeconds;
                text.Append(update.Text);
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var failure = ProviderErrors.Classify(e, model, timeout, time.GetUtcNow());
            var failedAfter = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (recordLive)
                recorder.Enqueue(new ModelPerformanceRecord(model.Id, null, startedAt, failedAfter, ttft, inputTokens, 0, false, failure.ErrorKind, 0, null, requestId));
            return new BenchmarkCall(failedAfter, ttft, inputTokens, 0, false, failure.ErrorKind, 0, text.ToString());
        }
        var latency = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var (input, output) = usage is { InputTokenCount: { } i, OutputTokenCount: { } o }
            ? ((int)i, (int)o)
            : (inputTokens, (int)PromptTokens.Count(text.ToString(), model.Tokenizer));
        var cost = model.PriceOf(input, output);
        if (recordLive)
            recorder.Enqueue(new ModelPerformanceRecord(model.Id, null, startedAt, latency, Math.Min(ttft ?? latency, latency), input, output, true, null,
                Math.Min(cost, RecordValidator.MaxCost), null, requestId));
        return new BenchmarkCall(latency, ttft, input, output, true, null, cost, text.ToString());
    }
}
