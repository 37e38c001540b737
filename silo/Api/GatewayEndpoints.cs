using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary><c>/v1/models/generate</c> (the product's shape) and <c>/v1/feedback</c>; <see cref="ChatCompletionsEndpoint"/> speaks OpenAI's.</summary>
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
            Messages = ReadMessages(root),
            Strategy = RoutingStrategies.Parse(JsonFields.String(root, "", "strategy")),
            Features = RoutingEndpoints.ReadFeatures(root),
            MaxTokens = ReadMaxTokens(root, "max_tokens") ?? GenerateRequest.DefaultMaxTokens,
            Temperature = JsonFields.Number(root, "", "temperature"),
            Model = JsonFields.String(root, "", "model"),
            Candidates = RoutingEndpoints.ReadCandidates(root),
        };
        var result = await gateway.GenerateAsync(generate, null, request.HttpContext.RequestAborted);
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

    /// <summary>OpenAI's message shape: a role and content as a string or a list of text parts.</summary>
    public static IReadOnlyList<ChatTurn>? ReadMessages(JsonElement root)
    {
        return JsonFields.Field(root, "messages") switch
        {
            null => null,
            { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().Select(Message).ToArray(),
            _ => throw JsonFields.WrongType("", "messages", "an array of {role, content}"),
        };

        static ChatTurn Message(JsonElement m, int i)
        {
            var at = $"messages[{i}].";
            if (m.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", $"messages[{i}]", "an object with role and content");
            var role = JsonFields.String(m, at, "role") ?? throw new ArgumentException($"{at}role is required.", at + "role");
            var content = JsonFields.Field(m, "content") switch
            {
                null => throw new ArgumentException($"{at}content is required.", at + "content"),
                { ValueKind: JsonValueKind.String } text => text.GetString()!,
                { ValueKind: JsonValueKind.Array } parts => string.Concat(parts.EnumerateArray().Select((p, j) =>
                    p.ValueKind == JsonValueKind.Object && JsonFields.String(p, $"{at}content[{j}].", "type") == "text"
                        ? JsonFields.String(p, $"{at}content[{j}].", "text") ?? ""
                        : throw new ArgumentException($"{at}content[{j}] must be a text part (type: text); images and other parts are not supported.", $"{at}content[{j}]"))),
                _ => throw JsonFields.WrongType(at, "content", "a string or a list of text parts"),
            };
            return new ChatTurn(role, content);
        }
    }

    public static int? ReadMaxTokens(JsonElement root, string name) => GatewayValidator.MaxTokens(JsonFields.Integer(root, "", name), name);
}
