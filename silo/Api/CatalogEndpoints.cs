using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Microsoft.Extensions.Primitives;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// The cluster's catalog (<see cref="IModelCatalogGrain"/>): list, read, add, replace, patch, remove, the change history
/// and seeding from configuration. A model's revision is its <c>ETag</c>; an edit with <c>If-Match</c> of an older one is 412.
/// </summary>
public static class CatalogEndpoints
{
    public const int MaxChanges = 10_000;

    public static void MapCatalogEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models", (HttpContext context, ModelCatalog catalog) =>
        {
            var view = catalog.Current;
            context.Response.Headers.ETag = RevisionTags.Tag(view.Version);
            return Results.Ok(new { view.Version, view.Models });
        }).WithSummary("Every model in the catalog, and its version");
        app.MapGet("/v1/models/changes", GetChanges).WithSummary("The catalog's change history, newest first");
        app.MapPost("/v1/models", AddAsync).WithBody<ModelDescriptor>("application/json").Produces<ModelDescriptor>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict).WithSummary("Add a model");
        app.MapPost("/v1/models/reseed", ReseedAsync).WithSummary("Replace the catalog with this silo's configured one");
        app.MapGet("/v1/models/{**id}", GetAsync).Produces<ModelDescriptor>().ProducesProblem(StatusCodes.Status404NotFound).WithSummary("One model; its revision as ETag");
        app.MapPut("/v1/models/{**id}", ReplaceAsync).WithBody<ModelDescriptor>("application/json").Produces<ModelDescriptor>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status412PreconditionFailed).WithSummary("Replace a model (If-Match: its ETag)");
        app.MapPatch("/v1/models/{**id}", PatchAsync).WithBody<ModelDescriptor>("application/merge-patch+json", "application/json").Produces<ModelDescriptor>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status412PreconditionFailed).WithSummary("Change the fields given (RFC 7396)");
        app.MapDelete("/v1/models/{**id}", RemoveAsync).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Remove a model: routing stops choosing it, its figures stay");
    }

    private static IModelCatalogGrain Catalog(IGrainFactory grains) => grains.GetGrain<IModelCatalogGrain>(0);

    private static async Task<IResult> GetAsync(string id, HttpContext context, IGrainFactory grains, ModelCatalog catalog)
    {
        if (await Catalog(grains).GetModelAsync(id) is not { } entry) return NotInCatalog(id, catalog);
        context.Response.Headers.ETag = RevisionTags.Tag(entry.Revision);
        return Results.Ok(entry.Model);
    }

    private static async Task<IResult> GetChanges(int? limit, IGrainFactory grains)
    {
        var changes = await Catalog(grains).GetChangesAsync(limit ?? 100);
        return Results.Ok(new { changes.Count, Changes = changes });
    }

    private static async Task<IResult> AddAsync(HttpRequest request, IGrainFactory grains, CatalogSync sync)
    {
        using var document = await JsonBody.ReadAsync(request);
        var model = ModelJson.Read(document.RootElement);
        ModelDescriptorValidator.Validate(model);
        var edit = await Catalog(grains).AddAsync(model, Actor(request));
        return await AnswerAsync(request.HttpContext, edit, sync, StatusCodes.Status201Created);
    }

    private static async Task<IResult> ReplaceAsync(string id, HttpRequest request, IGrainFactory grains, CatalogSync sync)
    {
        var expected = RevisionTags.IfMatch(request);
        using var document = await JsonBody.ReadAsync(request);
        var model = ModelJson.Read(document.RootElement, id);
        ModelDescriptorValidator.Validate(model);
        var edit = await Catalog(grains).ReplaceAsync(model, expected, Actor(request));
        return await AnswerAsync(request.HttpContext, edit, sync, StatusCodes.Status200OK);
    }

    /// <summary>
    /// A JSON merge patch (RFC 7396) of the model: the fields given replace the model's, an object merges into its
    /// object, null sets a field to its default. Made against the revision read, so a change in between is 412, never lost.
    /// </summary>
    private static async Task<IResult> PatchAsync(string id, HttpRequest request, IGrainFactory grains, ModelCatalog catalog, CatalogSync sync)
    {
        var expected = RevisionTags.IfMatch(request);
        using var document = await JsonBody.ReadAsync(request);
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a JSON object of the fields to change.", "body");
        if (await Catalog(grains).GetModelAsync(id) is not { } current) return NotInCatalog(id, catalog);
        var model = ModelJson.Patch(current.Model, JsonNode.Parse(document.RootElement.GetRawText())!.AsObject());
        // A key belongs to the host it was given for: moving the endpoint leaves the key behind unless it is named again.
        if (Gateway.ProviderConnections.Authority(model.Endpoint) != Gateway.ProviderConnections.Authority(current.Model.Endpoint)
            && !document.RootElement.TryGetProperty("api_key_variable", out _))
            model.ApiKeyVariable = null;
        ModelDescriptorValidator.Validate(model);
        // The caller's revision if it sent one, else the one just read: the catalog grain refuses either once stale.
        var edit = await Catalog(grains).ReplaceAsync(model, expected ?? current.Revision, Actor(request));
        return await AnswerAsync(request.HttpContext, edit, sync, StatusCodes.Status200OK);
    }

    private static async Task<IResult> RemoveAsync(string id, HttpRequest request, IGrainFactory grains, ModelCatalog catalog, CatalogSync sync)
    {
        var expected = RevisionTags.IfMatch(request);
        var edit = await Catalog(grains).RemoveAsync(id, expected, Actor(request));
        await sync.PullAsync();
        var removedAt = edit.Change.Timestamp;
        return Results.Ok(new
        {
            Id = id,
            edit.Change.Version,
            RemovedAt = removedAt,
            RecordsTakenUntil = catalog.Current.RemovedOf(id)?.RecordsUntil,
            edit.Change.Detail,
        });
    }

    /// <summary>Replaces the catalog with this silo's configured one: the way back from run-time changes to configuration.</summary>
    private static async Task<IResult> ReseedAsync(HttpRequest request, IGrainFactory grains, ModelCatalog catalog, CatalogSync sync)
    {
        var edit = await Catalog(grains).SeedAsync(catalog.Configured, Actor(request));
        await sync.PullAsync();
        return Results.Ok(new { edit.Change.Version, Models = catalog.Current.Models.Count, edit.Change.Detail });
    }

    /// <summary>This silo takes the new catalog at once (its router and validators); the others within their sync interval.</summary>
    private static async Task<IResult> AnswerAsync(HttpContext context, CatalogEdit edit, CatalogSync sync, int status)
    {
        await sync.PullAsync();
        var entry = edit.Entry!;
        context.Response.Headers.ETag = RevisionTags.Tag(entry.Revision);
        if (status == StatusCodes.Status201Created) context.Response.Headers.Location = $"/v1/models/{Uri.EscapeDataString(entry.Model.Id)}";
        return Results.Json(entry.Model, KyrosJson.Options, statusCode: status);
    }

    /// <summary>Who made a change, for the log and the change history: the API key's name, or the caller's address without keys.</summary>
    private static string Actor(HttpRequest request) => Auth.ApiKeyMiddleware.ActorOf(request.HttpContext);

    private static IResult NotInCatalog(string id, ModelCatalog catalog) => Problems.Field("id", catalog.Current.RemovedOf(id) is { } removed
        ? $"Model '{id}' was removed from the catalog at {removed.RemovedAt:u}; its statistics and history stay readable."
        : $"Model '{id}' is not in the catalog.", StatusCodes.Status404NotFound);
}
