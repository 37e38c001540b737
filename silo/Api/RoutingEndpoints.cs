using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Routing;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

public static class RoutingEndpoints
{
    private static readonly HashSet<string> RequestFields = ["request_features", "available_models", "strategy", "detail"];
    private static readonly HashSet<string> FeatureFields =
    [
        "estimated_tokens", "prompt", "creativity_requirement", "reasoning_requirement", "requires_code", "requires_vision",
        "requires_tools", "max_latency", "max_cost", "output_tokens", "stream",
    ];

    public static void MapRoutingEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/models/route", Route).RequireScope(Scopes.Write).WithBody<RoutingRequest>("application/json").Produces<RoutingDecision>()
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity).WithSummary("A routing decision with its score table");
        app.MapGet("/v1/models/recommendations", Recommend);
        // This silo's router: the stateless worker a local call reaches runs here.
        app.MapGet("/v1/models/health", async (IGrainFactory grains) => Results.Ok(await grains.GetGrain<IRouterGrain>(0).GetStateAsync()));
    }

    private static async Task<IResult> Route(HttpRequest request, IGrainFactory grains)
    {
        using var document = await JsonBody.ReadAsync(request);
        var routing = ModelScope.Restrict(request.HttpContext, ReadRequest(document.RootElement));
        // When no candidate passes the filters, ApiExceptionHandler answers 422 (or 503) with every candidate's reason.
        return Results.Ok(await grains.GetGrain<IRouterGrain>(0).SelectModelAsync(routing));
    }

    private static async Task<IResult> Recommend(HttpRequest request, IGrainFactory grains)
    {
        var q = request.Query;
        var features = new RequestFeatures
        {
            Prompt = q["prompt"].FirstOrDefault(),
            EstimatedTokens = QueryFields.Long(q, "estimated_tokens"),
            CreativityRequirement = QueryFields.Double(q, "creativity_requirement") ?? 0,
            ReasoningRequirement = QueryFields.Double(q, "reasoning_requirement") ?? 0,
            RequiresCode = QueryFields.Bool(q, "requires_code") ?? false,
            RequiresVision = QueryFields.Bool(q, "requires_vision") ?? false,
            RequiresTools = QueryFields.Bool(q, "requires_tools") ?? false,
            MaxLatency = QueryFields.Double(q, "max_latency"),
            MaxCost = QueryFields.Double(q, "max_cost"),
            OutputTokens = QueryFields.Long(q, "output_tokens") ?? RequestFeatures.DefaultOutputTokens,
            Stream = QueryFields.Bool(q, "stream") ?? false,
        };
        var candidates = q["available_models"].FirstOrDefault()?.Split(',', StringSplitOptions.TrimEntries);
        var routing = ModelScope.Restrict(request.HttpContext, new RoutingRequest(features, candidates, RoutingStrategies.Parse(q["strategy"].FirstOrDefault())));
        // Here the features are query parameters of their own, and errors name them so.
        RoutingValidator.Validate(routing, featuresPrefix: "");
        // Without top_n: up to three of the candidates that pass the filters.
        var topN = QueryFields.Long(q, "top_n") ?? 0;
        if (q.ContainsKey("top_n") && topN is < 1 or > int.MaxValue) throw new ArgumentException($"top_n must be at least 1; got {topN}.", "top_n");
        return Results.Ok(new { Recommendations = await grains.GetGrain<IRouterGrain>(0).GetRecommendationsAsync(routing, (int)topN) });
    }

    public static RoutingRequest ReadRequest(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a routing request object.", "body");
        JsonFields.RejectUnknown(root, "", RequestFields, "a routing request");
        var features = ReadFeatures(root) ?? new RequestFeatures();
        var candidates = ReadCandidates(root);
        var detail = JsonFields.String(root, "", "detail") switch
        {
            null or "full" => RoutingDetail.Full,
            "summary" => RoutingDetail.Summary,
            var other => throw new ArgumentException($"detail '{other}' must be full or summary.", "detail"),
        };
        return new RoutingRequest(features, candidates, RoutingStrategies.Parse(JsonFields.String(root, "", "strategy"))) { Detail = detail };
    }

    /// <summary>The body's <c>request_features</c> object; null when absent.</summary>
    public static RequestFeatures? ReadFeatures(JsonElement root) => JsonFields.Field(root, "request_features") switch
    {
        null => null,
        { ValueKind: JsonValueKind.Object } features => ReadFeatureFields(features),
        _ => throw JsonFields.WrongType("", "request_features", "an object"),
    };

    /// <summary>The body's <c>available_models</c>; null when absent (the whole catalog).</summary>
    public static IReadOnlyList<string>? ReadCandidates(JsonElement root) => JsonFields.Field(root, "available_models") switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().Select((m, i) => m.ValueKind == JsonValueKind.String
            ? m.GetString()! : throw JsonFields.WrongType("", $"available_models[{i}]", "a model id")).ToArray(),
        _ => throw JsonFields.WrongType("", "available_models", "an array of model ids"),
    };

    private static RequestFeatures ReadFeatureFields(JsonElement json)
    {
        const string p = "request_features.";
        JsonFields.RejectUnknown(json, p, FeatureFields, "request_features");
        return new RequestFeatures
        {
            EstimatedTokens = JsonFields.Integer(json, p, "estimated_tokens"),
            Prompt = JsonFields.String(json, p, "prompt"),
            CreativityRequirement = JsonFields.Number(json, p, "creativity_requirement") ?? 0,
            ReasoningRequirement = JsonFields.Number(json, p, "reasoning_requirement") ?? 0,
            RequiresCode = JsonFields.Bool(json, p, "requires_code") ?? false,
            RequiresVision = JsonFields.Bool(json, p, "requires_vision") ?? false,
            RequiresTools = JsonFields.Bool(json, p, "requires_tools") ?? false,
            MaxLatency = JsonFields.Number(json, p, "max_latency"),
            MaxCost = JsonFields.Number(json, p, "max_cost"),
            OutputTokens = JsonFields.Integer(json, p, "output_tokens") ?? RequestFeatures.DefaultOutputTokens,
            Stream = JsonFields.Bool(json, p, "stream") ?? false,
        };
    }
}
