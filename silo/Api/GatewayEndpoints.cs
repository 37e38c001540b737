using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>/v1/models/generate</c> (the product's shape) and <c>/v1/feedback</c>; <see cref="ChatCompletionsEndpoint"/> speaks
/// OpenAI's, <see cref="MessagesEndpoint"/> Anthropic's.
/// </summary>
public static class GatewayEndpoints
{
    private static readonly HashSet<string> GenerateFields =
        ["prompt", "messages", "strategy", "request_features", "max_tokens", "temperature", "model", "available_models"];
    private static readonly HashSet<string> FeedbackFields = ["request_id", "score"];

    public static void MapGatewayEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/generate", Generate).RequireScope(Scopes.Write).Produces<GenerateResult>()
            .ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout).WithSummary("Route, call the model, record");
        app.MapPost("/v1/feedback", PostFeedback).RequireScope(Scopes.Write);
        app.MapChatCompletions();
        app.MapEmbeddings();
        app.MapMessages();
    }

    private static async Task<IResult> Generate(HttpRequest request, ModelGateway gateway)
    {
        using var document = await JsonBody.ReadAsync(request);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a JSON object.", "body");
        JsonFields.RejectUnknown(root, "", GenerateFields, "a generation request");
        var generate = new GenerateRequest
        {
            Prompt = JsonFields.String(root, "", "prompt"),
            Messages = ChatCompletionJson.ReadMessages(root),
            Strategy = RoutingStrategies.Parse(JsonFields.String(root, "", "strategy")),
            Features = RoutingEndpoints.ReadFeatures(root),
            MaxTokens = ReadMaxTokens(root, "max_tokens") ?? GenerateRequest.DefaultMaxTokens,
            Temperature = JsonFields.Number(root, "", "temperature"),
            Model = JsonFields.String(root, "", "model"),
            Candidates = RoutingEndpoints.ReadCandidates(root),
        };
        var result = await gateway.GenerateAsync(ModelScope.Restrict(request.HttpContext, generate), null, ApiKeyMiddleware.CallerOf(request.HttpContext), request.HttpContext.RequestAborted);
        return Results.Ok(result);
    }

    private static async Task<IResult> PostFeedback(HttpRequest request, IGrainFactory grains, ModelCatalog catalog, TimeProvider time)
    {
        using var document = await JsonBody.ReadAsync(request);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a JSON object with request_id and score.", "body");
        JsonFields.RejectUnknown(root, "", FeedbackFields, "feedback");
        var requestId = JsonFields.String(root, "", "request_id") ?? throw new ArgumentException("request_id is required.", "request_id");
        var score = JsonFields.Number(root, "", "score") ?? throw new ArgumentException("score is required.", "score");
        return await Feedback.RecordAsync(grains, catalog, time, requestId, score) switch
        {
            FeedbackResult.Recorded => Results.Ok(new { RequestId = requestId, Score = score, Recorded = true }),
            FeedbackResult.Duplicate => Problems.Field("request_id", $"Request {requestId} already has a score; the first one stands.", StatusCodes.Status409Conflict),
            _ => Problems.Field("request_id", $"Request {requestId} is unknown, or older than the recent-record log keeps (Kyros:RecentRecords:Retention).", StatusCodes.Status404NotFound),
        };
    }

    public static int? ReadMaxTokens(JsonElement root, string name) => GatewayValidator.MaxTokens(JsonFields.Integer(root, "", name), name);
}
