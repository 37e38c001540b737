using System.Text.Json;
using Kyros.Perf.Alerts;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// Model alert rules: read and changed for the cluster, like hosts' thresholds (docs/alerts.md#model-and-key-alerts);
/// and how each notification target is doing (docs/alerts.md#notifications), never with its URL.
/// </summary>
public static class AlertEndpoints
{
    private static readonly HashSet<string> RuleFields = ["warning", "critical", "min_calls"];

    public static void MapAlertEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/alerts/model-rules");
        api.MapGet("", async (IGrainFactory grains) => Results.Ok(View(await grains.GetGrain<IModelAlertRulesGrain>(0).GetAsync())))
            .WithSummary("The cluster's model alert rules, with the version they are at");
        api.MapGet("/{rule}", async (string rule, IGrainFactory grains) =>
        {
            if (!ModelAlertRules.Names.Contains(rule)) return UnknownRule(rule);
            var snapshot = await grains.GetGrain<IModelAlertRulesGrain>(0).GetAsync();
            return Results.Ok(new { Rule = rule, snapshot.Version, Levels = snapshot.Rules.Of(rule) });
        });
        api.MapPut("/{rule}", PutRule).WithSummary("Set one model alert rule's warning, critical and min_calls for the cluster");
        app.MapGet("/v1/alerts/notifications", async (IGrainFactory grains) =>
                Results.Ok(new NotificationTargetsView(await grains.GetGrain<INotificationTargetsGrain>(0).GetTargetsAsync())))
            .Produces<NotificationTargetsView>()
            .WithSummary("Each notification target: queued, sent and failed notifications, the head's attempts, the last error and the next try");
    }

    private static object View(ModelAlertRulesSnapshot snapshot) => new
    {
        snapshot.Version,
        Rules = ModelAlertRules.Names.ToDictionary(n => n, snapshot.Rules.Of),
    };

    private static async Task<IResult> PutRule(string rule, HttpRequest request, IGrainFactory grains)
    {
        if (!ModelAlertRules.Names.Contains(rule)) return UnknownRule(rule);
        using var document = await JsonBody.ReadAsync(request);
        var body = document.RootElement;
        if (body.ValueKind != JsonValueKind.Object) return Problems.Field("body", "The body must be a JSON object with warning, critical and optionally min_calls.");
        JsonFields.RejectUnknown(body, "", RuleFields, "model alert rule");
        var minCalls = JsonFields.Integer(body, "", "min_calls") ?? ModelAlertRules.DefaultMinCalls;
        if (minCalls is < 1 or > 1_000_000) return Problems.Field("min_calls", $"min_calls must be within 1..1000000; got {minCalls}.");
        var levels = new ModelRuleLevels(Required(body, "warning"), Required(body, "critical"), (int)minCalls);
        ModelAlertRules.Validate(rule, levels);
        var snapshot = await grains.GetGrain<IModelAlertRulesGrain>(0).SetAsync(rule, levels);
        return Results.Ok(new { Rule = rule, snapshot.Version, Levels = snapshot.Rules.Of(rule) });
    }

    private static IResult UnknownRule(string rule) =>
        Problems.Field("rule", $"'{rule}' is not a model alert rule; use one of {string.Join(", ", ModelAlertRules.Names)}.", StatusCodes.Status404NotFound);

    private static double Required(JsonElement body, string name) => JsonFields.Number(body, "", name) ?? throw JsonFields.Missing("", name);
}

/// <summary>The body of <c>GET /v1/alerts/notifications</c>.</summary>
public sealed record NotificationTargetsView(IReadOnlyList<NotificationTargetStatus> Targets);
