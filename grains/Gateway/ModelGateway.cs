using System.Diagnostics;
using System.Text;
using Kyros.Perf.Common;
using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>Hears a generation as it happens (streaming): the model that started answering, then each piece of text.</summary>
public interface IGenerationObserver
{
    ValueTask OnStartAsync(string model, RoutingDecision decision, string requestId, bool simulated);
    ValueTask OnTextAsync(string text);
}

/// <summary>
/// Route, call, record: asks the router, calls the chosen model, retries rate limits and server errors (honouring
/// Retry-After), falls back along the decision's order, and records every attempt in that model's statistics.
/// Once text has reached a streaming caller there is no fallback: a failure then is the caller's error.
/// </summary>
public sealed class ModelGateway(
    ModelCatalog catalog, RoutingEngine router, ChatClients clients, GatewayRecorder recorder, IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly GatewayOptions _options = options.Value;

    /// <summary>
    /// One generation is one trace: this span, the routing decision's, each provider attempt's (GenAI conventions) and
    /// the record's grain call, all under the caller's <c>traceparent</c> when it sent one.
    /// </summary>
    public async Task<GenerateResult> GenerateAsync(GenerateRequest request, IGenerationObserver? observer, CancellationToken cancellationToken)
    {
        using var activity = KyrosTelemetry.Gateway.StartActivity("generate");
        var started = time.GetTimestamp();
        try
        {
            var result = await GenerateUntracedAsync(request, observer, cancellationToken);
            activity?.SetTag("kyros.model", result.Model);
            activity?.SetTag("kyros.attempts", result.Attempts.Count);
            activity?.SetTag("kyros.simulated", result.Simulated);
            Measure(result.Model, "ok", started);
            return result;
        }
        catch (GenerationFailedException e)
        {
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            activity?.SetTag("error.type", e.Attempts.LastOrDefault()?.ErrorKind ?? "failed");
            activity?.SetTag("kyros.attempts", e.Attempts.Count);
            Measure(e.Attempts.LastOrDefault()?.Model ?? "none", e.Attempts.LastOrDefault()?.ErrorKind ?? "failed", started);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Refused before any model was called (bad input, no candidate): no model label, so no label from the caller's text.
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            activity?.SetTag("error.type", e.GetType().Name);
            Measure("none", "refused", started);
            throw;
        }
    }

    private void Measure(string model, string outcome, long started)
    {
        KyrosTelemetry.Generations.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("outcome", outcome));
        if (KyrosTelemetry.GenerationDuration.Enabled)
            KyrosTelemetry.GenerationDuration.Record(time.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("outcome", outcome));
    }

    private async Task<GenerateResult> GenerateUntracedAsync(GenerateRequest request, IGenerationObserver? observer, CancellationToken cancellationToken)
    {
        var (decision, conversation, inputTokens) = Route(request);
        var attempts = new List<Attempt>();
        var started = time.GetTimestamp();
        foreach (var modelId in decision.FallbackOrder.Prepend(decision.SelectedModel))
        {
            // The catalog may have changed since the decision: a model removed meanwhile is not called.
            if (catalog.Find(modelId) is not { } model)
            {
                attempts.Add(new Attempt(modelId, false, "not_found", "skipped: removed from the catalog", 0, null));
                continue;
            }
            var reserveTokens = inputTokens.For(model) + request.MaxTokens;
            // The decision reserved its chosen model; a fallback reserves its own, or is skipped at its limit.
            if (modelId != decision.SelectedModel && router.Reserve(model, reserveTokens) is { } limited)
            {
                attempts.Add(new Attempt(modelId, false, "rate_limit", $"skipped: {limited}", 0, null));
                continue;
            }
            var reservedAt = time.GetUtcNow();
            long used = 0;
            try
            {
                for (var retry = 0; ; retry++)
                {
                    var (result, failure) = await CallAsync(model, request, conversation, inputTokens.For(model), decision, observer, attempts, cancellationToken);
                    if (result is not null)
                    {
                        used = result.Usage.TotalTokens;
                        return result;
                    }
                    if (failure!.CallersFault) throw Failed(failure.Message, failure.Status, attempts);
                    var wait = failure.RetryAfter ?? _options.RetryDelay;
                    if (!failure.Retryable || retry >= _options.MaxRetries || wait > _options.MaxRetryAfter) break;
                    if (time.GetElapsedTime(started) + wait > _options.Deadline) break;
                    await Task.Delay(wait, time, cancellationToken);
                }
            }
            finally
            {
                router.Settle(model, reserveTokens, used, reservedAt);
            }
            if (time.GetElapsedTime(started) > _options.Deadline) break;
        }
        var timeouts = attempts.Count > 0 && attempts.All(a => a.ErrorKind == "timeout");
        throw Failed($"Every candidate failed: {string.Join("; ", attempts.Select(a => $"{a.Model}: {a.Error}"))}", timeouts ? 504 : 502, attempts);
    }

    private (RoutingDecision Decision, List<ChatMessage> Conversation, InputTokens Tokens) Route(GenerateRequest request)
    {
        GatewayValidator.Validate(request);
        var conversation = request.Conversation;
        if (conversation.Sum(m => (long)m.Content.Length) > _options.MaxPromptCharacters)
            throw new ArgumentException($"The conversation is longer than {_options.MaxPromptCharacters} characters.", request.Prompt is null ? "messages" : "prompt");
        var view = catalog.Current;
        var limit = request.Model is { } named
            ? view.Find(named)?.MaxOutputTokens ?? catalog.EnsureKnown(named).MaxOutputTokens
            : view.MaxOutputTokens;
        if (request.MaxTokens > limit)
            throw new ArgumentException($"max_tokens {request.MaxTokens} is above {(request.Model is null ? "every model's" : request.Model + "'s")} limit of {limit}.", "max_tokens");

        var routing = request.Model is { } only
            ? new RoutingRequest(request.Features ?? new RequestFeatures(), [only], RoutingStrategy.Balanced)
            : new RoutingRequest(request.Features ?? new RequestFeatures(), request.Candidates, request.Strategy);
        // The conversation is counted once with each encoding its candidates use; each model is routed, reserved and recorded on its own count.
        var candidates = routing.Candidates?.Select(n => n is null ? null : view.Find(n)).OfType<ModelDescriptor>() ?? view.Models;
        var inputTokens = InputTokens.Count([.. conversation.Select(t => t.Content)], candidates);
        routing = routing with { Features = routing.Features with { EstimatedTokens = null, Prompt = null, OutputTokens = request.MaxTokens } };
        var decision = router.Decide(routing, RoutingEngine.SharedDraw, inputTokens);
        var messages = conversation.Select(t => new ChatMessage(new ChatRole(t.Role), t.Content)).ToList();
        return (decision, messages, inputTokens);
    }

    /// <summary>One call to one model: its result, or how it failed. Either way it is recorded.</summary>
    private async Task<(GenerateResult? Result, ProviderException? Failure)> CallAsync(ModelDescriptor model, GenerateRequest request,
        List<ChatMessage> conversation, long inputTokens, RoutingDecision decision, IGenerationObserver? observer, List<Attempt> attempts, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var requestId = RequestIds.Create(model.Id, startedAt);
        var simulated = model.Provider == "simulated";
        var text = new StringBuilder();
        double? ttft = null;
        UsageDetails? usage = null;
        string? finish = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The timeout in force: the catalog's, or the tuner's from the model's observed latency.
        var timeoutInForce = TimeSpan.FromSeconds(router.TimeoutSecondsOf(model));
        timeout.CancelAfter(timeoutInForce);
        var chat = new ChatOptions { MaxOutputTokens = request.MaxTokens, Temperature = (float?)request.Temperature };
        // The attempt as a GenAI client span (OpenTelemetry's semantic conventions for model calls).
        using var span = KyrosTelemetry.Gateway.HasListeners() ? KyrosTelemetry.Gateway.StartActivity($"chat {model.Id}", ActivityKind.Client) : null;
        span?.SetTag("gen_ai.operation.name", "chat");
        span?.SetTag("gen_ai.provider.name", model.Provider);
        span?.SetTag("gen_ai.request.model", model.Id);
        span?.SetTag("gen_ai.request.max_tokens", request.MaxTokens);
        span?.SetTag("kyros.request_id", requestId);
        var updates = clients.For(model).GetStreamingResponseAsync(conversation, chat, timeout.Token).GetAsyncEnumerator(timeout.Token);
        try
        {
            while (true)
            {
                ChatResponseUpdate update;
                try
                {
                    if (!await updates.MoveNextAsync())
                    {
                        // A stream that ends without saying why was cut short (or carried an error event): not an answer.
                        if (finish is null) throw new ProviderException($"{model.Id} ended its answer without a finish reason.", 502, "incomplete_response");
                        break;
                    }
                    update = updates.Current;
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    var failure = ProviderErrors.Classify(e, model, timeoutInForce, time.GetUtcNow());
                    span?.SetStatus(ActivityStatusCode.Error, failure.Message);
                    span?.SetTag("error.type", failure.ErrorKind);
                    var elapsed = time.GetElapsedTime(started).TotalSeconds;
                    attempts.Add(new Attempt(model.Id, false, failure.ErrorKind, failure.Message, elapsed, failure.RetryAfter?.TotalSeconds));
                    recorder.Enqueue(new ModelPerformanceRecord(model.Id, null, startedAt, elapsed, ttft, inputTokens, 0, false, failure.ErrorKind, 0, null,
                        $"{requestId}.a{attempts.Count}"));
                    // Text already reached a streaming caller: no retry, no fallback, the caller hears of the failure.
                    if (observer is not null && ttft is not null)
                        throw Failed($"{model.Id} failed after it started answering: {failure.Message}", failure.ErrorKind == "timeout" ? 504 : 502, attempts);
                    return (null, failure);
                }
                foreach (var content in update.Contents)
                    if (content is UsageContent u) usage = u.Details;
                if (update.FinishReason is { } reason) finish = reason == ChatFinishReason.Length ? "length" : reason.Value;
                if (string.IsNullOrEmpty(update.Text)) continue;
                if (ttft is null)
                {
                    ttft = time.GetElapsedTime(started).TotalSeconds;
                    if (observer is not null) await observer.OnStartAsync(model.Id, decision, requestId, simulated);
                }
                text.Append(update.Text);
                if (observer is not null) await observer.OnTextAsync(update.Text);
            }
        }
        finally
        {
            try
            {
                await updates.DisposeAsync();
            }
            catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException or ObjectDisposedException)
            {
                // A broken stream may fail again while it is closed; the attempt is already accounted for.
            }
        }

        var latency = time.GetElapsedTime(started).TotalSeconds;
        var tokens = usage is { InputTokenCount: { } i, OutputTokenCount: { } o }
            ? new TokenUsage(i, o, "provider")
            : new TokenUsage(inputTokens, PromptTokens.Count(text.ToString(), model.Tokenizer), "tokenizer");
        var cost = model.PriceOf(tokens.InputTokens, tokens.OutputTokens);
        if (span is not null)
        {
            span.SetTag("gen_ai.response.model", model.Id);
            span.SetTag("gen_ai.usage.input_tokens", tokens.InputTokens);
            span.SetTag("gen_ai.usage.output_tokens", tokens.OutputTokens);
            span.SetTag("gen_ai.response.finish_reasons", new[] { finish ?? "stop" });
            if (ttft is { } first) span.SetTag("gen_ai.response.time_to_first_chunk", first);
        }
        attempts.Add(new Attempt(model.Id, true, null, null, latency, null));
        var record = new ModelPerformanceRecord(model.Id, null, startedAt, latency, Math.Min(ttft ?? latency, latency), tokens.InputTokens,
            tokens.OutputTokens, true, null, Math.Min(cost, RecordValidator.MaxCost), null, requestId);
        // Durable before the caller has the last bytes (a stream's finish and usage, or the whole answer), unless configured off.
        if (_options.RecordBeforeAnswer) await recorder.RecordAnsweredAsync(record);
        else recorder.Enqueue(record);
        return (new GenerateResult
        {
            RequestId = requestId,
            Model = model.Id,
            Text = text.ToString(),
            Decision = decision,
            Usage = tokens,
            LatencySeconds = latency,
            TtftSeconds = ttft,
            Cost = cost,
            Attempts = attempts.ToArray(),
            Simulated = simulated,
            FinishReason = finish ?? "stop",
        }, null);
    }

    private static GenerationFailedException Failed(string message, int status, List<Attempt> attempts) => new(message, status, attempts.ToArray());
}
