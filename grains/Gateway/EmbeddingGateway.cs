using System.Diagnostics;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Keys;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Route, embed, record: as <see cref="ModelGateway"/> does for a generation, over the catalog's embedding models. It
/// retries rate limits and server errors (honouring Retry-After), falls back along the decision's order, reserves and
/// settles rate limits, and records every attempt in that model's statistics (input tokens, no output tokens).
/// </summary>
public sealed class EmbeddingGateway(
    ModelCatalog catalog, RoutingEngine router, EmbeddingGenerators generators, RetryAndFallback retryAndFallback, GatewayRecorder recorder,
    IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly GatewayOptions _options = options.Value;

    /// <param name="caller">The run-time key whose account admits and pays for each call to a model; null for none.</param>
    public async Task<EmbedResult> EmbedAsync(EmbedRequest request, KeyCaller? caller, CancellationToken cancellationToken)
    {
        using var activity = KyrosTelemetry.Gateway.StartActivity("embed");
        try
        {
            var result = await EmbedUntracedAsync(request, caller, cancellationToken);
            activity?.SetTag("kyros.model", result.Model);
            activity?.SetTag("kyros.attempts", result.Attempts.Count);
            activity?.SetTag("kyros.simulated", result.Simulated);
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException && activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, e.Message);
            activity.SetTag("error.type", e is GenerationFailedException failed ? failed.Attempts.LastOrDefault()?.ErrorKind ?? "failed" : e.GetType().Name);
            throw;
        }
    }

    private async Task<EmbedResult> EmbedUntracedAsync(EmbedRequest request, KeyCaller? caller, CancellationToken cancellationToken)
    {
        var (decision, inputTokens) = Route(request);
        return await retryAndFallback.RunAsync(decision, model => (inputTokens.For(model), 0L),
            (model, attempts) => CallAsync(model, request, inputTokens.For(model), decision, attempts, cancellationToken),
            result => (result.Usage.InputTokens, 0L, result.Cost), caller, cancellationToken);
    }

    private (RoutingDecision Decision, InputTokens Tokens) Route(EmbedRequest request)
    {
        EmbeddingValidator.Validate(request);
        if (request.Inputs.Sum(t => (long)t.Length) > _options.MaxPromptCharacters)
            throw new ArgumentException($"input is longer than {_options.MaxPromptCharacters} characters in all.", "input");
        var view = catalog.Current;
        IReadOnlyList<ModelDescriptor> candidates;
        if (request.Model is { } named)
        {
            var only = view.Find(named) ?? catalog.EnsureKnown(named);
            if (only.Kind != ModelKinds.Embedding) throw new ArgumentException($"model '{named}' is a {only.Kind} model, not an embedding model.", "model");
            candidates = [only];
        }
        else
        {
            candidates = [.. view.Models.Where(m => m.Kind == ModelKinds.Embedding && (request.Candidates is null || request.Candidates.Contains(m.Id)))];
            // Candidates given (an API key's models) and none of them an embedding model: refused, never routed over the whole catalog.
            if (request.Candidates is not null && candidates.Count == 0)
                throw new ArgumentException($"model: none of the models this request may use ({string.Join(", ", request.Candidates)}) is an embedding model.", "model");
        }

        // Each input is counted once with each encoding the candidates use: their sum is routed, reserved and recorded,
        // and the longest must fit a model's context window (each input is embedded on its own).
        var total = new InputTokens(0, 0);
        var longest = new InputTokens(0, 0);
        foreach (var input in request.Inputs)
        {
            var tokens = InputTokens.Count([input], candidates);
            total = new InputTokens(total.O200k + tokens.O200k, total.Cl100k + tokens.Cl100k);
            longest = new InputTokens(Math.Max(longest.O200k, tokens.O200k), Math.Max(longest.Cl100k, tokens.Cl100k));
        }
        var fitting = candidates.Where(m => longest.For(m) <= m.ContextWindow).Select(m => m.Id).ToList();
        if (candidates.Count > 0 && fitting.Count == 0)
            throw new ArgumentException(
                $"input holds a text of {longest.Largest} tokens, more than {(request.Model is null ? "any embedding model's" : request.Model + "'s")} context window " +
                $"({candidates.Max(m => m.ContextWindow)}).", "input");

        var features = new RequestFeatures { Kind = ModelKinds.Embedding, OutputTokens = 0 };
        // No embedding model at all: the router refuses the whole catalog, each model with its reason.
        var routing = request.Model is not null
            ? new RoutingRequest(features, fitting, RoutingStrategy.Balanced)
            : new RoutingRequest(features, fitting.Count > 0 ? fitting : null, request.Strategy);
        return (router.Decide(routing, RoutingEngine.SharedDraw, total), total);
    }

    /// <summary>One call to one model: its result, or how it failed. Either way it is recorded.</summary>
    private async Task<(EmbedResult? Result, ProviderException? Failure)> CallAsync(ModelDescriptor model, EmbedRequest request, long inputTokens,
        RoutingDecision decision, List<Attempt> attempts, CancellationToken cancellationToken)
    {
        var startedAt = time.GetUtcNow();
        var started = time.GetTimestamp();
        var requestId = RequestIds.Create(model.Id, startedAt);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The timeout in force: the catalog's, or the tuner's from the model's observed latency.
        var timeoutInForce = TimeSpan.FromSeconds(router.TimeoutSecondsOf(model));
        timeout.CancelAfter(timeoutInForce);
        // The attempt as a GenAI client span (OpenTelemetry's semantic conventions for model calls).
        using var span = KyrosTelemetry.Gateway.HasListeners() ? KyrosTelemetry.Gateway.StartActivity($"embeddings {model.Id}", ActivityKind.Client) : null;
        span?.SetTag("gen_ai.operation.name", "embeddings");
        span?.SetTag("gen_ai.provider.name", model.Provider);
        span?.SetTag("gen_ai.request.model", model.Id);
        span?.SetTag("kyros.request_id", requestId);
        GeneratedEmbeddings<Embedding<float>> embeddings;
        try
        {
            embeddings = await generators.For(model).GenerateAsync(request.Inputs, Options(model, request), timeout.Token);
            if (embeddings.Count != request.Inputs.Count)
                throw new ProviderException($"{model.Id} answered {embeddings.Count} vectors for {request.Inputs.Count} inputs.", 502, "bad_response");
            if (request.Dimensions is { } asked && embeddings.FirstOrDefault(e => e.Vector.Length != asked) is { } other)
                throw new ProviderException($"{model.Id} answered a vector of {other.Vector.Length} dimensions, not the {asked} asked for.", 502, "bad_response");
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            var failure = recorder.RecordFailedAttempt(e, new(model, startedAt, inputTokens, requestId), timeoutInForce, time.GetElapsedTime(started).TotalSeconds, null, span, attempts);
            return (null, failure);
        }

        var latency = time.GetElapsedTime(started).TotalSeconds;
        var tokens = embeddings.Usage?.InputTokenCount is { } counted ? new TokenUsage(counted, 0, "provider") : new TokenUsage(inputTokens, 0, "tokenizer");
        var cost = model.PriceOf(tokens.InputTokens, 0);
        span?.SetTag("gen_ai.usage.input_tokens", tokens.InputTokens);
        attempts.Add(new Attempt(model.Id, true, null, null, latency, null));
        var record = new ModelPerformanceRecord(model.Id, null, startedAt, latency, null, tokens.InputTokens, 0, true, null,
            Math.Min(cost, RecordValidator.MaxCost), null, requestId);
        // Durable before the caller has the vectors, unless configured off (as for a generation).
        if (_options.RecordBeforeAnswer) await recorder.RecordAnsweredAsync(record);
        else recorder.Enqueue(record);
        return (new EmbedResult
        {
            RequestId = requestId,
            Model = model.Id,
            Vectors = [.. embeddings.Select(e => e.Vector.ToArray())],
            Decision = decision,
            Usage = tokens,
            LatencySeconds = latency,
            Cost = cost,
            Attempts = attempts.ToArray(),
            Simulated = model.Provider == "simulated",
        }, null);
    }

    /// <summary>The dimensions for every provider; the end user for OpenAI's family, whose client takes it (Ollama has no such field).</summary>
    private static EmbeddingGenerationOptions Options(ModelDescriptor model, EmbedRequest request) => new()
    {
        Dimensions = request.Dimensions,
        RawRepresentationFactory = request.User is { } user && model.Provider is "openai-compatible" or "azure-openai"
            ? _ => new OpenAI.Embeddings.EmbeddingGenerationOptions { EndUserId = user }
            : null,
    };
}
