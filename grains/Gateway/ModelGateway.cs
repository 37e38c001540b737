using System.Diagnostics;
using System.Text;
using Kyros.Perf.Common;
using Kyros.Perf.Catalog;
using Kyros.Perf.Keys;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Hears a generation as it happens (streaming): the model that started answering, then each piece of text (with its
/// tokens' log probabilities when asked for), a refusal, and each tool call, whole, as the model finished it.
/// </summary>
public interface IGenerationObserver
{
    ValueTask OnStartAsync(string model, RoutingDecision decision, string requestId, bool simulated);
    ValueTask OnTextAsync(string text, IReadOnlyList<TokenLogprob>? logprobs);
    ValueTask OnRefusalAsync(string refusal);
    /// <summary>A tool call, complete: <paramref name="index"/> counts the answer's tool calls from 0.</summary>
    ValueTask OnToolCallAsync(int index, ToolCall call);
}

/// <summary>
/// Route, call, record: asks the router, calls the chosen model, retries rate limits and server errors (honouring
/// Retry-After), falls back along the decision's order, and records every attempt in that model's statistics.
/// Once text has reached a streaming caller there is no fallback: a failure then is the caller's error.
/// </summary>
public sealed class ModelGateway(
    ModelCatalog catalog, RoutingEngine router, ChatClients clients, RetryAndFallback retryAndFallback, GatewayRecorder recorder, IOptions<GatewayOptions> options,
    TimeProvider time)
{
    private readonly GatewayOptions _options = options.Value;

    /// <summary>
    /// One generation is one trace: this span, the routing decision's, each provider attempt's (GenAI conventions) and
    /// the record's grain call, all under the caller's <c>traceparent</c> when it sent one.
    /// </summary>
    /// <param name="caller">The run-time key whose account admits and pays for each call to a model; null for none.</param>
    public async Task<GenerateResult> GenerateAsync(GenerateRequest request, IGenerationObserver? observer, KeyCaller? caller, CancellationToken cancellationToken)
    {
        using var activity = KyrosTelemetry.Gateway.StartActivity("generate");
        var started = time.GetTimestamp();
        try
        {
            var result = await GenerateUntracedAsync(request, observer, caller, cancellationToken);
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

    private async Task<GenerateResult> GenerateUntracedAsync(GenerateRequest request, IGenerationObserver? observer, KeyCaller? caller, CancellationToken cancellationToken)
    {
        var (decision, conversation, inputTokens) = Route(request, observer is not null);
        // With n > 1 every answer is a call of its own, all at once: providers without n (Anthropic, Ollama) answer alike,
        // and each call is recorded. The first uses the decision's reservation; each other reserves its own.
        var first = RunAsync(decision, request, conversation, inputTokens, observer, caller, cancellationToken);
        if (request.Choices == 1) return await first;
        var others = Enumerable.Range(1, request.Choices - 1).Select(_ => ReservedRunAsync(decision, request, conversation, inputTokens, caller, cancellationToken)).ToArray();
        var results = await Task.WhenAll([first, .. others]);
        var result = results[0];
        return result with
        {
            MoreChoices = [.. results.Skip(1).Select(r => new GeneratedChoice
                { Text = r.Text, FinishReason = r.FinishReason, ToolCalls = r.ToolCalls, Refusal = r.Refusal, Logprobs = r.Logprobs })],
            Usage = new TokenUsage(results.Sum(r => r.Usage.InputTokens), results.Sum(r => r.Usage.OutputTokens), result.Usage.Source),
            Cost = results.Sum(r => r.Cost),
            Attempts = [.. results.SelectMany(r => r.Attempts)],
            LatencySeconds = results.Max(r => r.LatencySeconds),
        };
    }

    private Task<GenerateResult> RunAsync(RoutingDecision decision, GenerateRequest request, List<ChatMessage> conversation, InputTokens inputTokens,
        IGenerationObserver? observer, KeyCaller? caller, CancellationToken cancellationToken) =>
        retryAndFallback.RunAsync(decision, model => (inputTokens.For(model), request.MaxTokens),
            (model, tried) => CallAsync(model, request, conversation, inputTokens.For(model), decision, observer, tried, cancellationToken),
            result => (result.Usage.InputTokens, result.Usage.OutputTokens, result.Cost), caller, cancellationToken);

    private Task<GenerateResult> ReservedRunAsync(RoutingDecision decision, GenerateRequest request, List<ChatMessage> conversation, InputTokens inputTokens,
        KeyCaller? caller, CancellationToken cancellationToken)
    {
        var chosen = catalog.Find(decision.SelectedModel);
        if (chosen is not null && router.Reserve(chosen, inputTokens.For(chosen) + request.MaxTokens) is { } limited)
            throw RetryAndFallback.Failed($"n = {request.Choices} is more than {chosen.Id}'s rate limit admits now: {limited}", 429,
                [new Attempt(chosen.Id, false, "rate_limit", $"skipped: {limited}", 0, null)]);
        return RunAsync(decision, request, conversation, inputTokens, null, caller, cancellationToken);
    }

    private (RoutingDecision Decision, List<ChatMessage> Conversation, InputTokens Tokens) Route(GenerateRequest request, bool streaming)
    {
        GatewayValidator.Validate(request);
        if (streaming && request.Choices > 1) throw new ArgumentException("n > 1 cannot be streamed: ask for one answer per streamed request.", "n");
        var conversation = request.Conversation;
        if (conversation.Sum(m => (long)m.Content.Length) > _options.MaxPromptCharacters)
            throw new ArgumentException($"The conversation is longer than {_options.MaxPromptCharacters} characters.", request.Prompt is null ? "messages" : "prompt");
        var view = catalog.Current;
        var limit = request.Model is { } named
            ? view.Find(named)?.MaxOutputTokens ?? catalog.EnsureKnown(named).MaxOutputTokens
            : view.MaxOutputTokens;
        if (request.MaxTokens > limit)
            throw new ArgumentException($"max_tokens {request.MaxTokens} is above {(request.Model is null ? "every model's" : request.Model + "'s")} limit of {limit}.", "max_tokens");

        // What the request carries decides who may take it: tools, images and a JSON schema need the capability, and
        // some fields only some providers take. A model lacking one is never called, as chosen or as a fallback.
        var asked = request.Features ?? new RequestFeatures();
        var features = asked with
        {
            RequiresTools = asked.RequiresTools || request.Tools is { Count: > 0 },
            RequiresVision = asked.RequiresVision || GatewayValidator.HasImages(request),
            RequiresStructuredOutput = asked.RequiresStructuredOutput || request.ResponseFormat?.Type == ResponseFormat.JsonSchema,
            ProviderNeeds = asked.ProviderNeeds | GatewayValidator.NeedsOf(request),
            Kind = ModelKinds.Chat,
        };
        var routing = request.Model is { } only
            ? new RoutingRequest(features, [only], RoutingStrategy.Balanced)
            : new RoutingRequest(features, request.Candidates, request.Strategy);
        // The conversation is counted once with each encoding its candidates use; each model is routed, reserved and recorded on its own count.
        var candidates = routing.Candidates?.Select(n => n is null ? null : view.Find(n)).OfType<ModelDescriptor>() ?? view.Models;
        RequireCapable(features, candidates);
        // An image counts as ImageTokens in every encoding until the provider says what it cost.
        var images = request.Conversation.Sum(m => m.Parts?.Count(p => p.Type == ContentPart.ImageType) ?? 0) * (long)ImageTokens;
        var counted = InputTokens.Count(CountedTexts(request), candidates);
        var inputTokens = new InputTokens(counted.O200k + images, counted.Cl100k + images);
        routing = routing with { Features = routing.Features with { EstimatedTokens = null, Prompt = null, OutputTokens = request.MaxTokens } };
        var decision = router.Decide(routing, RoutingEngine.SharedDraw, inputTokens);
        return (decision, ChatRequestMapping.Messages(conversation), inputTokens);
    }

    /// <summary>
    /// A request no candidate could ever take is the caller's to change: 400 naming the field and the capability it
    /// needs, rather than a routing failure (a candidate refused for its health or rate limit is another matter).
    /// </summary>
    private static void RequireCapable(RequestFeatures features, IEnumerable<ModelDescriptor> candidates)
    {
        var chat = candidates.Where(m => m.Kind == ModelKinds.Chat).ToList();
        if (features.RequiresTools && !chat.Any(m => m.Capabilities.Tools))
            throw new ArgumentException("tools need a model with the tools capability, and no candidate has it.", "tools");
        if (features.RequiresVision && !chat.Any(m => m.Capabilities.Vision))
            throw new ArgumentException("images need a model with the vision capability, and no candidate has it.", "messages");
        if (features.RequiresStructuredOutput && !chat.Any(m => m.Capabilities.StructuredOutput))
            throw new ArgumentException("a json_schema response format needs a model with the structured_output capability, and no candidate has it.", "response_format");
        if (features.ProviderNeeds != ProviderNeeds.None && chat.Count > 0 && chat.All(m => ProviderSupport.Lacks(m.Provider, features.ProviderNeeds) is not null))
        {
            var field = ProviderSupport.Lacks(chat[0].Provider, features.ProviderNeeds)!;
            throw new ArgumentException($"{field} is not carried by the provider of any candidate ({string.Join(", ", chat.Select(m => m.Provider).Distinct())}).",
                field.StartsWith("an image", StringComparison.Ordinal) ? "messages" : field.Split('/')[0]);
        }
    }

    /// <summary>
    /// The request's text as a model reads it: messages, tool calls and results, tool definitions and the response
    /// schema. Images are counted apart, as <see cref="ImageTokens"/> each.
    /// </summary>
    private static List<string> CountedTexts(GenerateRequest request)
    {
        var texts = new List<string>();
        foreach (var turn in request.Conversation)
        {
            texts.Add(turn.Content);
            if (turn.ToolCalls is { } calls) texts.AddRange(calls.Select(c => c.Name + c.ArgumentsJson));
        }
        if (request.Tools is { } tools) texts.AddRange(tools.Select(t => t.Name + t.Description + t.ParametersJson));
        if (request.ResponseFormat?.SchemaJson is { } schema) texts.Add(schema);
        return texts;
    }

    /// <summary>What an image counts as before the provider says: a low-detail image's cost at OpenAI.</summary>
    public const int ImageTokens = 85;

    /// <summary>One call to one model: its result, or how it failed. Either way it is recorded.</summary>
    private async Task<(GenerateResult? Result, ProviderException? Failure)> CallAsync(ModelDescriptor model, GenerateRequest request,
        List<ChatMessage> conversation, long inputTokens, RoutingDecision decision, IGenerationObserver? observer, List<Attempt> attempts, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var requestId = RequestIds.Create(model.Id, startedAt);
        var simulated = model.Provider == "simulated";
        var text = new StringBuilder();
        var toolCalls = new List<ToolCall>();
        List<TokenLogprob>? logprobs = null;
        string? refusal = null;
        double? ttft = null;
        UsageDetails? usage = null;
        string? finish = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The timeout in force: the catalog's, or the tuner's from the model's observed latency.
        var timeoutInForce = TimeSpan.FromSeconds(router.TimeoutSecondsOf(model));
        timeout.CancelAfter(timeoutInForce);
        var chat = ChatRequestMapping.Options(request, model);
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
                    var failure = recorder.RecordFailedAttempt(e, new(model, startedAt, inputTokens, requestId), timeoutInForce, time.GetElapsedTime(started).TotalSeconds, ttft,
                        span, attempts);
                    // Text already reached a streaming caller: no retry, no fallback, the caller hears of the failure.
                    if (observer is not null && ttft is not null)
                        throw RetryAndFallback.Failed($"{model.Id} failed after it started answering: {failure.Message}", failure.ErrorKind == "timeout" ? 504 : 502, attempts);
                    return (null, failure);
                }
                if (update.FinishReason is { } reason) finish = reason.Value;
                var chunkLogprobs = ResponseReading.Logprobs(update);
                if (ResponseReading.RefusalPiece(update) is { } refusalPiece)
                {
                    await StartedAsync();
                    refusal += refusalPiece;
                    if (observer is not null) await observer.OnRefusalAsync(refusalPiece);
                }
                if (chunkLogprobs is not null) (logprobs ??= []).AddRange(chunkLogprobs);
                foreach (var content in update.Contents)
                {
                    switch (content)
                    {
                        case UsageContent u:
                            usage = u.Details;
                            continue;
                        case TextContent { Text.Length: > 0 } piece:
                            await StartedAsync();
                            text.Append(piece.Text);
                            if (observer is not null) await observer.OnTextAsync(piece.Text, chunkLogprobs);
                            chunkLogprobs = null;
                            continue;
                        // A refusal the provider's client gave whole, when none came in pieces (from providers other than OpenAI's).
                        case ErrorContent { ErrorCode: "Refusal" } refused when refusal is null:
                            await StartedAsync();
                            refusal += refused.Message;
                            if (observer is not null) await observer.OnRefusalAsync(refused.Message);
                            continue;
                        case FunctionCallContent call:
                            await StartedAsync();
                            var made = ResponseReading.ToolCall(call);
                            toolCalls.Add(made);
                            if (observer is not null) await observer.OnToolCallAsync(toolCalls.Count - 1, made);
                            continue;
                    }
                }
            }

            async ValueTask StartedAsync()
            {
                if (ttft is not null) return;
                ttft = time.GetElapsedTime(started).TotalSeconds;
                if (observer is not null) await observer.OnStartAsync(model.Id, decision, requestId, simulated);
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
            : new TokenUsage(inputTokens, PromptTokens.Count(text.ToString() + string.Concat(toolCalls.Select(c => c.Name + c.ArgumentsJson)), model.Tokenizer), "tokenizer");
        // Some servers end a tool-calling answer with "stop"; the caller's client decides on the finish reason, so it says what happened.
        if (toolCalls.Count > 0 && finish is null or "stop") finish = "tool_calls";
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
            tokens.OutputTokens, true, null, Math.Min(cost, RecordValidator.MaxCost), null, requestId) { ToolCalls = toolCalls.Count };
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
            ToolCalls = toolCalls,
            Refusal = refusal,
            Logprobs = logprobs,
        }, null);
    }
}
