using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>POST /v1/chat/completions</c> in OpenAI's wire format, so OpenAI clients work by changing their base URL.
/// <c>model</c> is <c>auto</c> (adaptive routing), <c>kyros/&lt;strategy&gt;</c>, or a catalog model id. The chosen model
/// and the decision come back in <c>x-kyros-*</c> headers and in a <c>kyros</c> object of the body.
/// </summary>
public static class ChatCompletionsEndpoint
{
    public const string StrategyPrefix = "kyros/";
    public const string Path = "/v1/chat/completions";

    public static void MapChatCompletions(this IEndpointRouteBuilder app) => app.MapPost(Path, CompleteAsync).RequireScope(Scopes.Write);

    private static async Task CompleteAsync(HttpContext context, ModelGateway gateway, ModelCatalog catalog)
    {
        using var document = await JsonBody.ReadAsync(context.Request);
        var (request, stream) = Read(document.RootElement, catalog);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!stream)
        {
            var result = await gateway.GenerateAsync(request, null, context.RequestAborted);
            SetHeaders(context.Response, result.Model, result.Decision.DecisionId, result.RequestId, result.Simulated);
            await context.Response.WriteAsJsonAsync(new
            {
                Id = result.RequestId,
                Object = "chat.completion",
                Created = created,
                result.Model,
                Choices = new[] { new { Index = 0, Message = new { Role = "assistant", Content = result.Text }, result.FinishReason } },
                Usage = Usage(result.Usage),
                Kyros = Extension(result),
            }, KyrosJson.Options, context.RequestAborted);
            return;
        }

        var events = new EventStream(context.Response, created);
        try
        {
            var result = await gateway.GenerateAsync(request, events, context.RequestAborted);
            await events.FinishAsync(result);
        }
        catch (Exception e) when (events.Started && e is GenerationFailedException or OperationCanceledException)
        {
            // Text has been sent: the failure reaches the client as an error event, never as a clean end.
            if (!context.RequestAborted.IsCancellationRequested) await events.FailAsync(e.Message);
        }
    }

    private static (GenerateRequest Request, bool Stream) Read(JsonElement root, ModelCatalog catalog)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a chat completion request object.", "body");
        var model = JsonFields.String(root, "", "model") ?? throw new ArgumentException("model is required: auto, kyros/<strategy> or a model id.", "model");
        if (JsonFields.Integer(root, "", "n") is { } n && n != 1) throw new ArgumentException("n must be 1: one completion per request.", "n");
        var messages = GatewayEndpoints.ReadMessages(root) ?? throw new ArgumentException("messages is required.", "messages");
        var (strategy, only) = model switch
        {
            "auto" => (RoutingStrategy.Adaptive, null),
            _ when model.StartsWith(StrategyPrefix, StringComparison.Ordinal) => (ParseStrategy(model), null),
            _ when catalog.Contains(model) => (RoutingStrategy.Balanced, model),
            _ => throw new ModelNotFoundException(model),
        };
        var request = new GenerateRequest
        {
            Messages = messages,
            Strategy = strategy,
            Model = only,
            MaxTokens = GatewayEndpoints.ReadMaxTokens(root, "max_completion_tokens") ?? GatewayEndpoints.ReadMaxTokens(root, "max_tokens") ?? GenerateRequest.DefaultMaxTokens,
            Temperature = JsonFields.Number(root, "", "temperature"),
            Features = RoutingEndpoints.ReadFeatures(root),
        };
        return (request, JsonFields.Bool(root, "", "stream") ?? false);
    }

    private static RoutingStrategy ParseStrategy(string model)
    {
        try
        {
            return RoutingStrategies.Parse(model[StrategyPrefix.Length..]);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"model '{model}' names no strategy: {ArgumentErrors.DetailOf(e)}", "model");
        }
    }

    private static void SetHeaders(HttpResponse response, string model, string decisionId, string requestId, bool simulated)
    {
        response.Headers["x-kyros-model"] = model;
        response.Headers["x-kyros-decision-id"] = decisionId;
        response.Headers["x-kyros-request-id"] = requestId;
        response.Headers["x-kyros-simulated"] = simulated ? "true" : "false";
    }

    private static object Usage(TokenUsage usage) =>
        new { PromptTokens = usage.InputTokens, CompletionTokens = usage.OutputTokens, TotalTokens = usage.TotalTokens };

    private static object Extension(GenerateResult result) => new
    {
        result.RequestId,
        result.Decision.DecisionId,
        result.Decision.Strategy,
        result.Decision.ConfidenceScore,
        result.Attempts,
        result.Simulated,
        result.LatencySeconds,
        result.TtftSeconds,
        result.Cost,
        UsageSource = result.Usage.Source,
    };

    /// <summary>Server-sent events in OpenAI's chunk format: a role chunk, content chunks, a finish chunk, a usage chunk, [DONE].</summary>
    private sealed class EventStream(HttpResponse response, long created) : IGenerationObserver
    {
        private string _id = "";
        private string _model = "";

        public bool Started { get; private set; }

        public async ValueTask OnStartAsync(string model, RoutingDecision decision, string requestId, bool simulated)
        {
            (_id, _model, Started) = (requestId, model, true);
            SetHeaders(response, model, decision.DecisionId, requestId, simulated);
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            await WriteAsync(Chunk(new { Role = "assistant", Content = "" }, null));
        }

        public ValueTask OnTextAsync(string text) => WriteAsync(Chunk(new { Content = text }, null));

        public async Task FinishAsync(GenerateResult result)
        {
            // An answer without text (all of it spent on reasoning, say) still gets its opening chunk and headers.
            if (!Started) await OnStartAsync(result.Model, result.Decision, result.RequestId, result.Simulated);
            await WriteAsync(Chunk(new { }, result.FinishReason));
            await WriteAsync(new { Id = _id, Object = "chat.completion.chunk", Created = created, Model = _model, Choices = Array.Empty<object>(), Usage = Usage(result.Usage), Kyros = Extension(result) });
            await response.WriteAsync("data: [DONE]\n\n");
            await response.Body.FlushAsync();
        }

        public async Task FailAsync(string message) =>
            await WriteAsync(new { Error = new { Message = message, Type = "server_error", Code = "model_failed" } });

        private object Chunk(object delta, string? finishReason) => new
        {
            Id = _id,
            Object = "chat.completion.chunk",
            Created = created,
            Model = _model,
            Choices = new[] { new { Index = 0, Delta = delta, FinishReason = finishReason } },
        };

        private async ValueTask WriteAsync(object payload)
        {
            await response.WriteAsync("data: ");
            await JsonSerializer.SerializeAsync(response.Body, payload, KyrosJson.Options);
            await response.WriteAsync("\n\n");
            await response.Body.FlushAsync();
        }
    }
}

/// <summary>A model id that is not in the catalog: 404 naming <c>model</c>.</summary>
public sealed class ModelNotFoundException(string model) : Exception($"model '{model}' is neither auto, kyros/<strategy>, nor a model in the catalog.");
