using System.Text.Json;
using Kyros.Perf.Tuning;
using Microsoft.AspNetCore.Http.Features;

namespace Kyros.Perf.Silo.Api;

/// <summary>The tuner (<see cref="ITunerGrain"/> key 0): status, cycles on demand, configuration, recommendations and history.</summary>
public static class TuningEndpoints
{
    public const int MaxLimit = 1000;
    private static readonly TimeSpan DefaultHistory = TimeSpan.FromHours(24);
    private static readonly HashSet<string> RunFields = [];
    private static readonly HashSet<string> ConfigurationFields =
    [
        "enabled", "tuning_interval_minutes", "confidence_threshold", "impact_threshold", "max_concurrent_tunings",
        "learning_rate", "safety_margin", "auto_apply", "evaluation_minutes",
    ];

    public static void MapTuningEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tuning");
        api.MapGet("/status", async (IGrainFactory grains) => Results.Ok(await Tuner(grains).GetStatusAsync()));
        api.MapPost("/run", Run);
        api.MapPut("/config", PutConfiguration);
        api.MapGet("/recommendations", GetRecommendations);
        api.MapPost("/recommendations/{id}/apply", async (string id, IGrainFactory grains) =>
            Results.Ok(await Tuner(grains).ApplyAsync(TuningValidator.RequireId(id))));
        api.MapPost("/recommendations/{id}/reject", async (string id, IGrainFactory grains) =>
            Results.Ok(await Tuner(grains).RejectAsync(TuningValidator.RequireId(id))));
        api.MapPost("/recommendations/{id}/rollback", async (string id, IGrainFactory grains) =>
            Results.Ok(await Tuner(grains).RollbackAsync(TuningValidator.RequireId(id))));
        api.MapGet("/history", GetHistory);
    }

    private static ITunerGrain Tuner(IGrainFactory grains) => grains.GetGrain<ITunerGrain>(0);

    /// <summary>No body is needed; one that is given must be an object without fields (<c>{}</c>).</summary>
    private static async Task<IResult> Run(HttpRequest request, IGrainFactory grains)
    {
        var canHaveBody = request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        if (canHaveBody && request.ContentLength is not 0)
        {
            using var document = await JsonBody.ReadAsync(request);
            var body = document.RootElement;
            if (body.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be empty or {}: a cycle takes no input.", "body");
            JsonFields.RejectUnknown(body, "", RunFields, "a tuning run (which takes no input)");
        }
        return Results.Ok(await Tuner(grains).RunCycleAsync());
    }

    private static async Task<IResult> PutConfiguration(HttpRequest request, IGrainFactory grains)
    {
        using var document = await JsonBody.ReadAsync(request);
        var update = ReadConfigurationUpdate(document.RootElement);
        // Ranges are checked by the grain (TuningValidator); its ArgumentException names the field.
        return Results.Ok(await Tuner(grains).UpdateConfigurationAsync(update));
    }

    /// <summary>A configuration change: any of the configuration's fields, at least one, each of its own type.</summary>
    public static TuningConfigurationUpdate ReadConfigurationUpdate(JsonElement body)
    {
        const string Shape = "The body must be a JSON object with at least one of " +
            "enabled, tuning_interval_minutes, confidence_threshold, impact_threshold, max_concurrent_tunings, learning_rate, safety_margin, auto_apply, evaluation_minutes.";
        if (body.ValueKind != JsonValueKind.Object) throw new ArgumentException(Shape, "body");
        JsonFields.RejectUnknown(body, "", ConfigurationFields, "the tuning configuration");
        var update = new TuningConfigurationUpdate
        {
            Enabled = JsonFields.Bool(body, "", "enabled"),
            TuningIntervalMinutes = JsonFields.Number(body, "", "tuning_interval_minutes"),
            ConfidenceThreshold = JsonFields.Number(body, "", "confidence_threshold"),
            ImpactThreshold = JsonFields.Number(body, "", "impact_threshold"),
            MaxConcurrentTunings = JsonFields.Integer(body, "", "max_concurrent_tunings") switch
            {
                null => null,
                { } n when n is >= int.MinValue and <= int.MaxValue => (int)n,
                { } n => throw new ArgumentException($"max_concurrent_tunings must be within 1..100 (got {n}).", "max_concurrent_tunings"),
            },
            LearningRate = JsonFields.Number(body, "", "learning_rate"),
            SafetyMargin = JsonFields.Number(body, "", "safety_margin"),
            AutoApply = JsonFields.Bool(body, "", "auto_apply"),
            EvaluationMinutes = JsonFields.Number(body, "", "evaluation_minutes"),
        };
        return update == new TuningConfigurationUpdate() ? throw new ArgumentException(Shape, "body") : update;
    }

    private static async Task<IResult> GetRecommendations(HttpRequest request, IGrainFactory grains)
    {
        var q = request.Query;
        var limit = QueryFields.Int(q, "limit") ?? new TuningQuery().Limit;
        if (limit is < 1 or > MaxLimit) throw new ArgumentException($"limit must be within 1..{MaxLimit} (got {limit}).", "limit");
        var query = new TuningQuery(
            Status: q["status"].FirstOrDefault() is { } status ? TuningStatuses.Parse(status) : null,
            Target: q["target"].FirstOrDefault(),
            Since: QueryFields.Time(q, "since"),
            Limit: limit);
        return Results.Ok(new { Recommendations = await Tuner(grains).GetRecommendationsAsync(query) });
    }

    private static async Task<IResult> GetHistory(HttpRequest request, IGrainFactory grains, TimeProvider time)
    {
        var q = request.Query;
        var now = time.GetUtcNow();
        var from = QueryFields.Time(q, "from") ?? now - DefaultHistory;
        var to = QueryFields.Time(q, "to") ?? now;
        if (from > to) throw new ArgumentException($"from ({from:O}) is after to ({to:O}).", "from");
        return Results.Ok(new { History = await Tuner(grains).GetHistoryAsync(from, to) });
    }
}
