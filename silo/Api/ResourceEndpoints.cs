using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Common;
using Kyros.Perf.Resources;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary>Host resources: summaries, pushed samples, alerts, thresholds and scaling advice.</summary>
public static class ResourceEndpoints
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);
    private static readonly HashSet<string> ThresholdFields = ["info", "warning", "critical", "emergency"];

    public static void MapResourceEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/resources");
        api.MapGet("/summary", async (string? window, IGrainFactory grains) =>
            Results.Ok(await grains.GetGrain<IResourceSummaryGrain>(0).GetClusterSummaryAsync(TimeWindow.ParseOr(window, DefaultWindow))));
        api.MapGet("/nodes", async (IGrainFactory grains) => Results.Ok(new { Nodes = await grains.GetGrain<IResourceDirectoryGrain>(0).GetNodesAsync() }));
        api.MapGet("/nodes/{node}", GetNode);
        api.MapPost("/nodes/{node}/samples", PostSamples).RequireScope(Scopes.Write);
        api.MapGet("/nodes/{node}/series", GetSeries).Produces<NodeSeries>();
        api.MapGet("/alerts", GetAlerts);
        api.MapGet("/alerts/stream", (string? level, string? node, HttpContext context, AlertFeed feed, CancellationToken cancellationToken) =>
        {
            var filter = new AlertQuery(MinimumLevel: level is null ? null : AlertLevels.Parse(level), Node: node);
            var caller = Auth.ApiKeyMiddleware.KeyNameOf(context) ?? context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            if (feed.TryReserve(caller) is not { } place)
            {
                context.Response.Headers.RetryAfter = "5";
                return Problems.Field("stream", $"'{caller}' holds as many alert streams on this silo as it may ({Alerts.AlertOptions.Section}:MaxStreamsPerCaller), or the silo as many as it serves: close one first.",
                    StatusCodes.Status429TooManyRequests);
            }
            // Given back when the response ends, however it ends.
            context.Response.RegisterForDispose(place);
            return (IResult)TypedResults.ServerSentEvents(feed.ListenAsync(filter, cancellationToken));
        })
            .WithTags(nameof(ResourceEndpoints)).WithDescription("Alert events as they are raised, as server-sent events: ready, alert (an alert event), ping.");
        api.MapGet("/thresholds", GetThresholds);
        api.MapPut("/thresholds/{metric}", PutThreshold);
        api.MapGet("/thresholds/{metric}", async (string metric, string? node, IGrainFactory grains) =>
        {
            if (!ResourceMetrics.IsKnown(metric)) return UnknownMetric(metric);
            var (missing, thresholds) = await ThresholdsAsync(node, grains);
            if (missing is not null) return missing;
            return thresholds.FirstOrDefault(t => t.Metric == metric) is { } found
                ? Results.Ok(found)
                : Problems.Field("metric", $"{metric} has no thresholds here (it has no defaults; PUT some).", StatusCodes.Status404NotFound);
        });
        api.MapGet("/scaling", async (IGrainFactory grains) =>
            Results.Ok(new { Recommendations = await grains.GetGrain<IResourceSummaryGrain>(0).GetScalingAsync() }));
    }

    private static async Task<IResult> GetNode(string node, string? window, IGrainFactory grains)
    {
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        if (await UnknownNodeAsync(node, grains) is { } missing) return missing;
        return Results.Ok(await grains.GetGrain<INodeResourceGrain>(node).GetSummaryAsync(span));
    }

    private static async Task<IResult> GetSeries(string node, string? window, HttpRequest request, IGrainFactory grains)
    {
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        var points = QueryFields.Int(request.Query, "points") ?? ResourceValidator.DefaultSeriesPoints;
        ResourceValidator.RequireSeriesPoints(points, "points");
        if (await UnknownNodeAsync(node, grains) is { } missing) return missing;
        return Results.Ok(await grains.GetGrain<INodeResourceGrain>(node).GetSeriesAsync(span, points));
    }

    private static async Task<IResult> PostSamples(string node, HttpRequest request, IGrainFactory grains)
    {
        ResourceValidator.RequireNodeName(node);
        using var document = await JsonBody.ReadAsync(request);
        var samples = ResourceSampleJsonReader.ReadBody(document.RootElement, node);
        await grains.GetGrain<INodeResourceGrain>(node).PushAsync(samples);
        return Results.Ok(new { Node = node, Accepted = samples.Count });
    }

    private static async Task<IResult> GetAlerts(HttpRequest request, IGrainFactory grains)
    {
        var q = request.Query;
        var query = new AlertQuery(
            ActiveOnly: QueryFields.Bool(q, "active") ?? false,
            MinimumLevel: q["level"].FirstOrDefault() is { } level ? AlertLevels.Parse(level) : null,
            Node: q["node"].FirstOrDefault(),
            Since: QueryFields.Time(q, "since"),
            Limit: QueryFields.Int(q, "limit") ?? 500);
        return Results.Ok(await grains.GetGrain<IAlertLogGrain>(0).QueryAsync(query));
    }

    private static async Task<IResult> GetThresholds(string? node, IGrainFactory grains)
    {
        var (missing, thresholds) = await ThresholdsAsync(node, grains);
        return missing ?? Results.Ok(new { Scope = node is null ? "cluster" : "node", Node = node, Thresholds = thresholds });
    }

    /// <summary>The thresholds in force for the cluster, or on one host; a 404 for a host that has sent nothing.</summary>
    private static async Task<(IResult? Missing, IReadOnlyList<MetricThresholds> Thresholds)> ThresholdsAsync(string? node, IGrainFactory grains)
    {
        if (node is null)
        {
            var cluster = await grains.GetGrain<IResourceDirectoryGrain>(0).GetClusterThresholdsAsync();
            return (null, DefaultThresholds.Resolve(cluster));
        }
        if (await UnknownNodeAsync(node, grains) is { } missing) return (missing, []);
        return (null, await grains.GetGrain<INodeResourceGrain>(node).GetThresholdsAsync());
    }

    private static IResult UnknownMetric(string metric) =>
        Problems.Field("metric", $"'{metric}' is not a metric; use one of {string.Join(", ", ResourceMetrics.All)}.", StatusCodes.Status404NotFound);

    private static async Task<IResult> PutThreshold(string metric, string? node, HttpRequest request, IGrainFactory grains)
    {
        if (!ResourceMetrics.IsKnown(metric)) return UnknownMetric(metric);
        using var document = await JsonBody.ReadAsync(request);
        var body = document.RootElement;
        if (body.ValueKind != JsonValueKind.Object) return Problems.Field("body", "The body must be a JSON object with warning, critical, emergency and optionally info.");
        JsonFields.RejectUnknown(body, "", ThresholdFields, "thresholds");
        var thresholds = new AlertThresholds(
            Required(body, "warning"), Required(body, "critical"), Required(body, "emergency"), JsonFields.Number(body, "", "info"));
        ResourceValidator.ValidateThresholds(metric, thresholds);
        if (node is null) return Results.Ok(await grains.GetGrain<IResourceDirectoryGrain>(0).SetClusterThresholdAsync(metric, thresholds));
        if (await UnknownNodeAsync(node, grains) is { } missing) return missing;
        return Results.Ok(await grains.GetGrain<INodeResourceGrain>(node).SetThresholdAsync(metric, thresholds));
    }

    private static async Task<IResult?> UnknownNodeAsync(string node, IGrainFactory grains)
    {
        ResourceValidator.RequireNodeName(node);
        var nodes = await grains.GetGrain<IResourceDirectoryGrain>(0).GetNodesAsync();
        return nodes.Contains(node) ? null : Problems.Field("node", $"Host '{node}' has sent no samples.", StatusCodes.Status404NotFound);
    }

    private static double Required(JsonElement body, string name) => JsonFields.Number(body, "", name) ?? throw JsonFields.Missing("", name);

}
