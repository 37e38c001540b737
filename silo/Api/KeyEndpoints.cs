using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Common;
using Kyros.Perf.Keys;
using Kyros.Perf.Silo.Auth;
using Microsoft.Extensions.Primitives;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// Run-time API keys (<see cref="IApiKeyDirectoryGrain"/>), all with the admin scope: create (the only answer that holds
/// the secret), list, read, merge-patch, revoke. The secret is made here and only its SHA-256 leaves this process.
/// Configured keys (<c>Kyros:Auth:Keys</c>) are listed by name and cannot be changed here.
/// </summary>
public static class KeyEndpoints
{
    public const string Path = "/v1/keys";
    private static readonly HashSet<string> Fields = ["name", "scopes", "models", "budget_usd", "budget_period", "rpm", "tpm", "expires_at"];

    public static void MapKeyEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, CreateAsync).RequireScope(Scopes.Admin).WithBody<KeyBody>("application/json").Produces<KeyView>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status409Conflict).WithSummary("Create a key: the answer's `key` is its secret, shown this once");
        app.MapGet(Path, ListAsync).RequireScope(Scopes.Admin).WithSummary("Every run-time key (never a secret or its hash) and the configured keys' names");
        app.MapGet($"{Path}/{{id}}", GetAsync).RequireScope(Scopes.Admin).Produces<KeyView>().ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("One run-time key; its revision as ETag");
        app.MapPatch($"{Path}/{{id}}", PatchAsync).RequireScope(Scopes.Admin).WithBody<KeyBody>("application/merge-patch+json", "application/json").Produces<KeyView>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithSummary("Change the fields given (RFC 7396; null clears models, budget, rpm, tpm, expires_at)");
        app.MapDelete($"{Path}/{{id}}", RevokeAsync).RequireScope(Scopes.Admin).ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("Revoke a key: every silo refuses it within 2 s");
    }

    private static IApiKeyDirectoryGrain Directory(IGrainFactory grains) => grains.GetGrain<IApiKeyDirectoryGrain>(0);

    private static async Task<IResult> CreateAsync(HttpRequest request, IGrainFactory grains, ApiKeys keys, ApiKeySync sync, TimeProvider time)
    {
        using var document = await JsonBody.ReadAsync(request);
        var now = time.GetUtcNow();
        var settings = ApiKeyValidator.Validate(Merge(new ApiKeySettings { Name = "", Scopes = [] }, document.RootElement), now);
        EnsureNotConfigured(keys, settings.Name);
        var secret = ApiKeySecrets.Generate();
        var key = await Directory(grains).CreateAsync(ApiKeySecrets.Hash(secret), settings, ApiKeyMiddleware.ActorOf(request.HttpContext));
        await sync.PullAsync();
        request.HttpContext.Response.Headers.Location = $"{Path}/{key.Id}";
        request.HttpContext.Response.Headers.ETag = RevisionTags.Tag(key.Revision);
        return Results.Json(View(key, now, secret), KyrosJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<IResult> ListAsync(IGrainFactory grains, IConfiguration configuration, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var all = await Directory(grains).ListAsync();
        var usage = await KeySpendReport.UsageOfAsync(grains, all.Select(k => k.Id));
        var configured = configuration.GetSection(AuthOptions.Section + ":Keys").GetChildren()
            .Select(k => new { Name = k["Name"], Scopes = k.GetSection("Scopes").GetChildren().Select(s => s.Value).ToArray(), Rpm = k["RequestsPerMinute"] is { } r ? int.Parse(r, CultureInfo.InvariantCulture) : (int?)null });
        return Results.Ok(new { all.Count, Keys = all.Select((k, i) => View(k, now, usage: usage[i])), Configured = configured });
    }

    private static async Task<IResult> GetAsync(string id, HttpContext context, IGrainFactory grains, TimeProvider time)
    {
        if (await Directory(grains).GetAsync(id) is not { } key) return NotFound(id);
        var usage = await grains.GetGrain<IKeyAccountGrain>(key.Id).GetUsageAsync();
        context.Response.Headers.ETag = RevisionTags.Tag(key.Revision);
        return Results.Ok(View(key, time.GetUtcNow(), usage: usage));
    }

    /// <summary>A merge patch (RFC 7396) made against the revision read (or the caller's <c>If-Match</c>), so a change in between is 412, never lost.</summary>
    private static async Task<IResult> PatchAsync(string id, HttpRequest request, IGrainFactory grains, ApiKeys keys, ApiKeySync sync, TimeProvider time)
    {
        var expected = RevisionTags.IfMatch(request);
        using var document = await JsonBody.ReadAsync(request);
        if (await Directory(grains).GetAsync(id) is not { } current) return NotFound(id);
        var now = time.GetUtcNow();
        var settings = ApiKeyValidator.Validate(Merge(current.Settings, document.RootElement), now);
        EnsureNotConfigured(keys, settings.Name);
        var key = await Directory(grains).UpdateAsync(id, settings, expected ?? current.Revision, ApiKeyMiddleware.ActorOf(request.HttpContext));
        await sync.PullAsync();
        request.HttpContext.Response.Headers.ETag = RevisionTags.Tag(key.Revision);
        return Results.Ok(View(key, now));
    }

    private static async Task<IResult> RevokeAsync(string id, HttpRequest request, IGrainFactory grains, ApiKeySync sync, TimeProvider time)
    {
        var key = await Directory(grains).RevokeAsync(id, ApiKeyMiddleware.ActorOf(request.HttpContext));
        await sync.PullAsync();
        return Results.Ok(new { key.Id, key.Settings.Name, Revoked = true, RevokedAt = time.GetUtcNow() });
    }

    private static void EnsureNotConfigured(ApiKeys keys, string name)
    {
        if (keys.ConfiguredNames.Contains(name, StringComparer.Ordinal))
            throw new ApiKeyNameTakenException($"name '{name}' is a configured key's (Kyros:Auth:Keys): choose another.");
    }

    /// <summary>The body's fields over <paramref name="current"/>: a field given replaces, null clears, one not given stays.</summary>
    public static ApiKeySettings Merge(ApiKeySettings current, JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a JSON object of the key's fields.", "body");
        JsonFields.RejectUnknown(root, "", Fields, "a key");
        var s = current;
        if (root.TryGetProperty("name", out _)) s = s with { Name = JsonFields.String(root, "", "name") ?? throw JsonFields.Missing("", "name") };
        if (root.TryGetProperty("scopes", out _)) s = s with { Scopes = Strings(root, "scopes") ?? throw JsonFields.Missing("", "scopes") };
        if (root.TryGetProperty("models", out _)) s = s with { Models = Strings(root, "models") };
        if (root.TryGetProperty("budget_usd", out _)) s = s with { BudgetUsd = JsonFields.Number(root, "", "budget_usd") };
        if (root.TryGetProperty("budget_period", out _)) s = s with { BudgetPeriod = JsonFields.String(root, "", "budget_period") };
        // A budget cleared takes its period with it.
        if (s.BudgetUsd is null && !root.TryGetProperty("budget_period", out _)) s = s with { BudgetPeriod = null };
        if (root.TryGetProperty("rpm", out _))
            s = s with { Rpm = JsonFields.Integer(root, "", "rpm") is { } rpm ? rpm is >= int.MinValue and <= int.MaxValue ? (int)rpm : throw new ArgumentException("rpm is too large.", "rpm") : null };
        if (root.TryGetProperty("tpm", out _)) s = s with { Tpm = JsonFields.Integer(root, "", "tpm") };
        if (root.TryGetProperty("expires_at", out _))
            s = s with
            {
                ExpiresAt = JsonFields.Field(root, "expires_at") switch
                {
                    null => null,
                    { ValueKind: JsonValueKind.String } value when value.TryGetDateTimeOffset(out var at) => at.ToUniversalTime(),
                    _ => throw JsonFields.WrongType("", "expires_at", "an ISO 8601 date and time such as 2027-01-31T00:00:00Z"),
                },
            };
        return s;
    }

    private static string[]? Strings(JsonElement root, string name) => JsonFields.Field(root, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } array => [.. array.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : throw JsonFields.WrongType("", name, "an array of strings"))],
        _ => throw JsonFields.WrongType("", name, "an array of strings"),
    };

    /// <summary>A key as it is shown: every field but the secret (only in the answer that made it) and never the hash.</summary>
    /// <param name="usage">The key's spend, requests and tokens in its period (<see cref="IKeyAccountGrain"/>), where read.</param>
    public static KeyView View(ApiKeyInfo key, DateTimeOffset now, string? secret = null, KeyUsage? usage = null) => new(
        key.Id, secret, key.Settings.Name, key.Settings.Scopes, key.Settings.Models, key.Settings.BudgetUsd, key.Settings.BudgetPeriod, key.Settings.Rpm,
        key.Settings.Tpm, key.Settings.ExpiresAt, key.Settings.ExpiresAt is { } e && e <= now, key.CreatedAt, key.CreatedBy, key.UpdatedAt, key.Revision,
        usage is null ? null : UsageView.Of(usage));

    private static IResult NotFound(string id) => Problems.Field("id", $"Key '{id}' is not in the key directory (revoked, or never made).", StatusCodes.Status404NotFound);

    /// <summary>The body of a create or patch (for the API document).</summary>
    public sealed record KeyBody(string Name, string[] Scopes, string[]? Models, double? BudgetUsd, string? BudgetPeriod, int? Rpm, long? Tpm, DateTimeOffset? ExpiresAt);

    /// <summary>A key as the API shows it; <see cref="Key"/> (the secret) only in the answer that created it.</summary>
    public sealed record KeyView(string Id, [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Key,
        string Name, IReadOnlyList<string> Scopes, IReadOnlyList<string>? Models, double? BudgetUsd, string? BudgetPeriod, int? Rpm, long? Tpm,
        DateTimeOffset? ExpiresAt, bool Expired, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset UpdatedAt, long Revision,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] UsageView? Usage = null);

    /// <summary>A key's use in its period as the API shows it: <c>spend_usd</c> settled, <c>reserved_usd</c> held by calls in flight.</summary>
    public sealed record UsageView(string Period, DateTimeOffset PeriodStart, DateTimeOffset? PeriodEnd, double? BudgetUsd, double SpendUsd, double ReservedUsd,
        double? RemainingUsd, long Requests, long InputTokens, long OutputTokens, int InFlight, long RequestsLastMinute, long TokensLastMinute, long Refused,
        IReadOnlyList<KeyModelUsage> Models)
    {
        public static UsageView Of(KeyUsage u) => new(u.Period, u.PeriodStart, u.PeriodEnd, u.BudgetUsd, u.SpendUsd, u.ReservedUsd, u.RemainingUsd, u.Requests,
            u.InputTokens, u.OutputTokens, u.InFlight, u.RequestsLastMinute, u.TokensLastMinute, u.Refused, u.Models);
    }
}
