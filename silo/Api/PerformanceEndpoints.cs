using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Stats;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

public static class PerformanceEndpoints
{
    public const long MaxBodyBytes = 16 * 1024 * 1024;
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(1);

    public static void MapPerformanceEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/performance");
        api.MapPost("/records", PostRecords).RequireScope(Scopes.Write)
            .WithBody<ModelPerformanceRecord[]>("application/json").Produces<RecordResult>().ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .WithSummary("Record one performance record (an object) or a batch (an array, at most 10,000)");
        api.MapGet("/models/{model}", GetModelSummary).Produces<ModelSummary>().ProducesProblem(StatusCodes.Status404NotFound).WithSummary("One model's summary over a window");
        api.MapGet("/models/{model}/instances", GetInstanceSummaries).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("A summary per instance");
        api.MapGet("/models/{model}/records", GetRecentRecords).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("The newest raw records");
        api.MapGet("/models/{model}/history", GetHistory).ProducesProblem(StatusCodes.Status404NotFound).WithSummary("Minute or hour roll-ups from every host's history");
        api.MapGet("/summary", GetClusterSummary).Produces<ClusterSummary>().WithSummary("Every model's summary and their exact merge");
    }

    private static async Task<IResult> PostRecords(HttpRequest request, IGrainFactory grains, ModelCatalog catalog, TimeProvider time, Microsoft.Extensions.Options.IOptions<KyrosSiloOptions> silo)
    {
        if (request.ContentLength > MaxBodyBytes)
            return Problems.Field("body", $"The body is larger than {MaxBodyBytes / (1024 * 1024)} MiB.", StatusCodes.Status413PayloadTooLarge);
        using var document = await JsonBody.ReadAsync(request);
        var now = time.GetUtcNow();
        var (records, isBatch) = RecordJsonReader.ReadBody(document.RootElement, now);

        // Everything is checked before anything is recorded: one bad record and the batch changes nothing.
        if (isBatch) RecordValidator.ValidateBatch(records, now);
        else RecordValidator.Validate(records[0], now);
        for (var i = 0; i < records.Count; i++) catalog.EnsureRecordable(records[i].Model, isBatch ? $"[{i}].model" : "model");

        var recording = isBatch ? ModelBatches.RecordAsync(grains, records) : grains.GetGrain<IModelStatsGrain>(records[0].Model).RecordAsync(records[0]);
        var total = await AcknowledgedAsync(recording, silo.Value);
        return Results.Ok(new { total.Recorded, total.Duplicates });
    }

    /// <summary>
    /// The records' acknowledgement, or a 503 once the store's bound has passed: a hung store holds a grain's queue, and
    /// the caller's retry with the same request ids counts each record once, whether or not this write went through after all.
    /// </summary>
    public static async Task<RecordResult> AcknowledgedAsync(Task<RecordResult> recording, KyrosSiloOptions silo)
    {
        var deadline = silo.StoreTimeout + TimeSpan.FromSeconds(1);
        try
        {
            return await recording.WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            _ = recording.ContinueWith(static t => _ = t.Exception, TaskContinuationOptions.OnlyOnFaulted);
            throw new KyrosUnavailableException($"The records were not acknowledged within {deadline.TotalSeconds:0.#} s (a store or a silo is slow to answer); send them again with the same request ids.");
        }
    }

    private static async Task<IResult> GetModelSummary(string model, string? window, string? instance, IGrainFactory grains, ModelCatalog catalog)
    {
        if (!catalog.IsReadable(model)) return UnknownModel(model);
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        return Results.Ok(await grains.GetGrain<IModelStatsGrain>(model).GetSummaryAsync(span, instance));
    }

    private static async Task<IResult> GetInstanceSummaries(string model, string? window, IGrainFactory grains, ModelCatalog catalog)
    {
        if (!catalog.IsReadable(model)) return UnknownModel(model);
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        var instances = await grains.GetGrain<IModelStatsGrain>(model).GetInstanceSummariesAsync(span);
        return Results.Ok(new { Model = model, Window = TimeWindow.Format(span), Instances = instances });
    }

    private static async Task<IResult> GetRecentRecords(string model, int? limit, IGrainFactory grains, ModelCatalog catalog)
    {
        if (!catalog.IsReadable(model)) return UnknownModel(model);
        var records = await grains.GetGrain<IModelStatsGrain>(model).GetRecentRecordsAsync(limit ?? 100);
        return Results.Ok(new { Model = model, records.Count, Records = records });
    }

    private static async Task<IResult> GetClusterSummary(string? window, IGrainFactory grains, Keys.ApiKeyRing ring)
    {
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        var summary = grains.GetGrain<IPerformanceSummaryGrain>(0).GetClusterSummaryAsync(span);
        var keys = Keys.KeySpendReport.ReadAsync(grains, ring);
        return Results.Ok(await summary with { Keys = await keys });
    }

    private static async Task<IResult> GetHistory(string model, string? from, string? to, string? resolution,
        ModelCatalog catalog, ClusterHistory history, TimeProvider time)
    {
        if (!catalog.IsReadable(model)) return UnknownModel(model);
        var step = resolution switch
        {
            null or "1m" => HistoryResolution.Minute,
            "1h" => HistoryResolution.Hour,
            _ => throw new ArgumentException($"resolution must be 1m or 1h; got '{resolution}'.", "resolution"),
        };
        var end = to is null ? time.GetUtcNow() : QueryFields.Time(to, "to");
        var start = from is null ? end - (step == HistoryResolution.Minute ? TimeSpan.FromHours(24) : TimeSpan.FromDays(7)) : QueryFields.Time(from, "from");
        if (start >= end) throw new ArgumentException("from must be before to.", "from");
        var maxSpan = TimeSpan.FromSeconds((int)step * 50_000.0);
        if (end - start > maxSpan)
            throw new ArgumentException($"from..to spans more than {maxSpan.TotalDays:0.#} days, the most one request returns at this resolution.", "from");

        // Every host's file, merged: any silo answers the same.
        var rows = await history.QueryAsync(model, step, start, end);
        var label = step == HistoryResolution.Minute ? "1m" : "1h";
        var bucket = TimeSpan.FromSeconds((int)step);
        var total = new MetricsAggregate();
        foreach (var (_, aggregate) in rows) total.Merge(aggregate);
        return Results.Ok(new
        {
            Model = model,
            Resolution = label,
            From = start,
            To = end,
            Points = rows.Select(r => ModelSummary.Create(model, label, r.Start, r.Start + bucket, r.Aggregate)),
            Total = ModelSummary.Create(model, "range", start, end, total),
        });
    }

    private static IResult UnknownModel(string model) =>
        Problems.Field("model", $"Model '{model}' is not in the catalog.", StatusCodes.Status404NotFound);
}
