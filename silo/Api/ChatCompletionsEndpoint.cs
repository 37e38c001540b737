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

    private static async Task CompleteAsync(HttpContext context, ModelGateway gateway, ModelCatalog catalog, ResponseCache cache, TimeProvider time)
    {
        using var document = await JsonBody.ReadAsync(context.Request);
        var (read, stream, includeUsage) = ChatCompletionJson.Read(document.RootElement, catalog);
        var request = ModelScope.Restrict(context, read);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await StreamedAnswer.RespondAsync(context, gateway, cache, time, request,
            stream ? new EventStream(context.Response, created, includeUsage, request.Logprobs) : null, result => WriteCompletionAsync(context, result, created));
    }

    private static async Task WriteCompletionAsync(HttpContext context, GenerateResult result, long created)
    {
        SetHeaders(context.Response, result.Model, result.Decision.DecisionId, result.RequestId, result.Simulated);
        var choices = new List<object>
        {
            Choice(0, result.Text, result.Refusal, result.ToolCalls, result.Logprobs, result.FinishReason),
        };
        choices.AddRange(result.MoreChoices.Select((c, i) => Choice(i + 1, c.Text, c.Refusal, c.ToolCalls, c.Logprobs, c.FinishReason)));
        await context.Response.WriteAsJsonAsync(new
        {
            Id = result.RequestId,
            Object = "chat.completion",
            Created = created,
            result.Model,
            Choices = choices,
            Usage = Usage(result.Usage),
            Kyros = Extension(result),
        }, KyrosJson.Options, context.RequestAborted);
    }

    private static object Choice(int index, string text, string? refusal, IReadOnlyList<ToolCall> toolCalls, IReadOnlyList<TokenLogprob>? logprobs, string finishReason) => new
    {
        Index = index,
        Message = ChatCompletionJson.Message(text, refusal, toolCalls),
        Logprobs = ChatCompletionJson.Logprobs(logprobs),
        FinishReason = finishReason,
    };

    /// <summary>
    /// The <c>model</c> field of the vendor-shaped endpoints: <c>auto</c> (adaptive routing), <c>kyros/&lt;strategy&gt;</c>, or a
    /// catalog model (the only one tried).
    /// </summary>
    public static (RoutingStrategy Strategy, string? Model) ResolveModel(string model, ModelCatalog catalog) => model switch
    {
        "auto" => (RoutingStrategy.Adaptive, null),
        _ when model.StartsWith(StrategyPrefix, StringComparison.Ordinal) => (ParseStrategy(model), null),
        _ when catalog.Contains(model) => (RoutingStrategy.Balanced, model),
        _ => throw new ModelNotFoundException(model),
    };

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

    internal static void SetHeaders(HttpResponse response, string model, string decisionId, string requestId, bool simulated)
    {
        response.Headers["x-kyros-model"] = model;
        response.Headers["x-kyros-decision-id"] = decisionId;
        response.Headers["x-kyros-request-id"] = requestId;
        response.Headers["x-kyros-simulated"] = simulated ? "true" : "false";
    }

    private static object Usage(TokenUsage usage) =>
        new { PromptTokens = usage.InputTokens, CompletionTokens = usage.OutputTokens, TotalTokens = usage.TotalTokens };

    internal static object Extension(GenerateResult result) => new
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

    /// <summary>
    /// Server-sent events in OpenAI's chunk format: a role chunk, content (and refusal) chunks, each tool call as an
    /// opening chunk (id, name) and its arguments in pieces, a finish chunk, a usage chunk when asked for, [DONE].
    /// </summary>
    private sealed class EventStream(HttpResponse response, long created, bool includeUsage, bool logprobs) : IStreamedAnswer
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

        public ValueTask OnTextAsync(string text, IReadOnlyList<TokenLogprob>? tokens) =>
            WriteAsync(Chunk(new { Content = text }, null, logprobs ? ChatCompletionJson.Logprobs(tokens ?? []) : null));

        public ValueTask OnRefusalAsync(string refusal) => WriteAsync(Chunk(new { Refusal = refusal }, null));

        public async ValueTask OnToolCallAsync(int index, ToolCall call)
        {
            await WriteAsync(Chunk(new { ToolCalls = new[] { new { Index = index, call.Id, Type = "function", Function = new { call.Name, Arguments = "" } } } }, null));
            // Arguments in pieces, as models stream them: clients assemble them by index.
            for (var at = 0; at < call.ArgumentsJson.Length; at += ArgumentPiece)
                await WriteAsync(Chunk(new { ToolCalls = new[] { new { Index = index, Function = new { Arguments = call.ArgumentsJson.Substring(at, Math.Min(ArgumentPiece, call.ArgumentsJson.Length - at)) } } } }, null));
        }

        private const int ArgumentPiece = 32;

        public async Task FinishAsync(GenerateResult result)
        {
            // An answer without text (all of it spent on reasoning, say) still gets its opening chunk and headers.
            if (!Started) await OnStartAsync(result.Model, result.Decision, result.RequestId, result.Simulated);
            if (includeUsage)
            {
                await WriteAsync(Chunk(new { }, result.FinishReason));
                await WriteAsync(new { Id = _id, Object = "chat.completion.chunk", Created = created, Model = _model, Choices = Array.Empty<object>(), Usage = Usage(result.Usage), Kyros = Extension(result) });
            }
            else
            {
                // No usage chunk unasked (a chunk without choices trips some clients): Kyros' own figures ride on the finish chunk.
                await WriteAsync(new
                {
                    Id = _id, Object = "chat.completion.chunk", Created = created, Model = _model,
                    Choices = new[] { new { Index = 0, Delta = new { }, Logprobs = (object?)null, result.FinishReason } }, Kyros = Extension(result),
                });
            }
            await response.WriteAsync("data: [DONE]\n\n");
            await response.Body.FlushAsync();
        }

        public async Task FailAsync(string message) =>
            await WriteAsync(new { Error = new { Message = message, Type = "server_error", Code = "model_failed" } });

        private object Chunk(object delta, string? finishReason, object? tokens = null) => new
        {
            Id = _id,
            Object = "chat.completion.chunk",
            Created = created,
            Model = _model,
            Choices = new[] { new { Index = 0, Delta = delta, Logprobs = tokens, FinishReason = finishReason } },
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
