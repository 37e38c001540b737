namespace Kyros.Perf.Keys;

/// <summary>
/// The rules of a key's settings, the same for the HTTP API, the SDK and the directory grain: each broken rule throws an
/// <see cref="ArgumentException"/> naming the field as the HTTP API does (<c>budget_usd</c>, <c>expires_at</c>, ...).
/// </summary>
public static class ApiKeyValidator
{
    public const int MaxModels = 1_000;

    /// <summary>The settings as stored: checked, with a budget's period filled in (<c>month</c>).</summary>
    /// <param name="modelKnown">Whether a model is in the catalog; null skips that check (the directory makes it).</param>
    public static ApiKeySettings Validate(ApiKeySettings? settings, DateTimeOffset now, Func<string, bool>? modelKnown = null)
    {
        if (settings is null) throw new ArgumentException("The key's settings are required.", "body");
        if (!IsName(settings.Name)) throw new ArgumentException("name must be 1-64 letters, digits, '-', '_' or '.'.", "name");
        if (settings.Scopes is not { Count: > 0 }) throw new ArgumentException($"scopes must name at least one of {string.Join(", ", ApiKeyScopes.All)}.", "scopes");
        foreach (var scope in settings.Scopes)
            if (!ApiKeyScopes.All.Contains(scope)) throw new ArgumentException($"scopes '{scope}' is not a scope: {string.Join(", ", ApiKeyScopes.All)}.", "scopes");
        if (settings.Models is { } models)
        {
            if (models.Count is 0 or > MaxModels) throw new ArgumentException($"models must list 1-{MaxModels} model ids, or be left out for every model.", "models");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var model in models)
            {
                if (string.IsNullOrWhiteSpace(model)) throw new ArgumentException("models must hold model ids, not empty strings.", "models");
                if (!seen.Add(model)) throw new ArgumentException($"models names '{model}' twice.", "models");
                if (modelKnown is not null && !modelKnown(model)) throw new ArgumentException($"models '{model}' is not in the model catalog.", "models");
            }
        }
        if (settings.BudgetUsd is { } budget && (!double.IsFinite(budget) || budget < 0))
            throw new ArgumentException($"budget_usd must be zero or more; got {budget}.", "budget_usd");
        if (settings.BudgetPeriod is { } period && !BudgetPeriods.All.Contains(period))
            throw new ArgumentException($"budget_period '{period}' must be one of {string.Join(", ", BudgetPeriods.All)}.", "budget_period");
        if (settings.BudgetPeriod is not null && settings.BudgetUsd is null)
            throw new ArgumentException("budget_period needs budget_usd.", "budget_period");
        if (settings.Rpm is < 1) throw new ArgumentException($"rpm must be at least 1 when set; got {settings.Rpm}.", "rpm");
        if (settings.Tpm is < 1) throw new ArgumentException($"tpm must be at least 1 when set; got {settings.Tpm}.", "tpm");
        if (settings.ExpiresAt is { } expires && expires <= now)
            throw new ArgumentException($"expires_at {expires:u} is not in the future.", "expires_at");
        return settings.BudgetUsd is not null && settings.BudgetPeriod is null ? settings with { BudgetPeriod = BudgetPeriods.Month } : settings;
    }

    /// <summary>The rule configured keys' names follow too.</summary>
    public static bool IsName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    public static void ValidateId(string? id)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64) throw new ArgumentException("id must be a key's id (1-64 characters).", "id");
    }
}
