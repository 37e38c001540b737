using System.Text.Json;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Catalog;

/// <summary>
/// The one set of rules a catalog model must meet, wherever it comes from: configuration at start (errors named by
/// setting), the catalog API and the SDK (an <see cref="ArgumentException"/> naming the field in snake_case).
/// </summary>
public static class ModelDescriptorValidator
{
    /// <summary>128 at most, so the gateway's request ids (which carry the model id) stay within a record's 256.</summary>
    public const int MaxIdLength = 128;

    /// <summary>Paths under <c>/v1/models/</c> that are endpoints, not models.</summary>
    public static readonly IReadOnlyList<string> ReservedIds = ["changes", "reseed", "route", "recommendations", "health", "generate"];

    public static readonly IReadOnlyList<string> Providers = ["simulated", "openai-compatible", "anthropic", "azure-openai", "ollama"];
    /// <summary>Providers with an embeddings API the gateway speaks.</summary>
    public static readonly IReadOnlyList<string> EmbeddingProviders = ["simulated", "openai-compatible", "azure-openai", "ollama"];
    public static readonly IReadOnlyList<string> Tokenizers = ["o200k", "cl100k"];

    /// <summary>The longest a response cache entry lives: a day.</summary>
    public const int MaxCacheTtlSeconds = 86_400;

    /// <summary>A model's faults: the property path (as in C#, such as <c>Capabilities.Reasoning</c>) and what is wrong.</summary>
    public static List<(string Path, string Message)> Check(ModelDescriptor? m)
    {
        var errors = new List<(string, string)>();
        if (m is null)
        {
            errors.Add(("", "must be a model object."));
            return errors;
        }
        if (string.IsNullOrWhiteSpace(m.Id) || m.Id.Length > MaxIdLength || m.Id.Any(char.IsControl) || m.Id != m.Id.Trim())
            errors.Add((nameof(m.Id), $"must be 1-{MaxIdLength} characters, without control characters or spaces at either end."));
        else if (ReservedIds.Contains(m.Id)) errors.Add((nameof(m.Id), $"'{m.Id}' names an endpoint under /v1/models/ ({string.Join(", ", ReservedIds)} do)."));
        if (!Providers.Contains(m.Provider)) errors.Add((nameof(m.Provider), $"must be one of {string.Join(", ", Providers)}."));
        if (!(m.InputPricePer1k >= 0) || double.IsInfinity(m.InputPricePer1k)) errors.Add((nameof(m.InputPricePer1k), "must be a non-negative price."));
        if (!(m.OutputPricePer1k >= 0) || double.IsInfinity(m.OutputPricePer1k)) errors.Add((nameof(m.OutputPricePer1k), "must be a non-negative price."));
        if (m.ContextWindow < 1) errors.Add((nameof(m.ContextWindow), "must be at least 1."));
        if (m.MaxOutputTokens < 1) errors.Add((nameof(m.MaxOutputTokens), "must be at least 1."));
        if (!(m.LatencyPrior > 0) || double.IsInfinity(m.LatencyPrior)) errors.Add((nameof(m.LatencyPrior), "must be positive seconds."));
        if (!(m.QualityPrior is >= 0 and <= 1)) errors.Add((nameof(m.QualityPrior), "must be within 0..1."));
        if (!(m.TimeoutSeconds > 0) || double.IsInfinity(m.TimeoutSeconds)) errors.Add((nameof(m.TimeoutSeconds), "must be positive seconds."));
        if (m.RequestsPerMinute < 1) errors.Add((nameof(m.RequestsPerMinute), "must be positive when set."));
        if (m.TokensPerMinute < 1) errors.Add((nameof(m.TokensPerMinute), "must be positive when set."));
        if (m.Hosts is null) errors.Add((nameof(m.Hosts), "must be a list of host names."));
        else
            foreach (var host in m.Hosts.Where(h => !ResourceValidator.IsNodeName(h)))
                errors.Add((nameof(m.Hosts), $"'{host}' is not a host name (letters, digits, '.', '_' or '-')."));
        if (m.Simulation is not { } sim) errors.Add((nameof(m.Simulation), "must be an object."));
        else
        {
            const string at = nameof(m.Simulation);
            if (!(sim.TtftMedianSeconds > 0)) errors.Add(($"{at}.{nameof(sim.TtftMedianSeconds)}", "must be positive."));
            if (!(sim.Spread is >= 0 and <= 3)) errors.Add(($"{at}.{nameof(sim.Spread)}", "must be within 0..3."));
            if (!(sim.TokensPerSecond > 0)) errors.Add(($"{at}.{nameof(sim.TokensPerSecond)}", "must be positive."));
            if (!(sim.ErrorRate is >= 0 and <= 1)) errors.Add(($"{at}.{nameof(sim.ErrorRate)}", "must be within 0..1."));
            if (!(sim.TimeoutShare >= 0) || !(sim.RateLimitShare >= 0) || !(sim.TimeoutShare + sim.RateLimitShare <= 1))
                errors.Add(($"{at}.{nameof(sim.TimeoutShare)}", "and RateLimitShare must be non-negative with a sum of at most 1."));
            if (!(sim.ToolCallShare is >= 0 and <= 1)) errors.Add(($"{at}.{nameof(sim.ToolCallShare)}", "must be within 0..1."));
            if (!(sim.RetryAfterSeconds >= 0)) errors.Add(($"{at}.{nameof(sim.RetryAfterSeconds)}", "must be non-negative."));
        }
        if (m.Provider != "simulated" && Providers.Contains(m.Provider) && !Uri.TryCreate(m.Endpoint, UriKind.Absolute, out _))
            errors.Add((nameof(m.Endpoint), $"must be an absolute URL for a {m.Provider} model (the API's base: http://127.0.0.1:11434/v1 for openai-compatible, https://api.anthropic.com for anthropic, https://<resource>.openai.azure.com for azure-openai, http://127.0.0.1:11434 for ollama)."));
        if (!ModelKinds.All.Contains(m.Kind)) errors.Add((nameof(m.Kind), $"must be one of {string.Join(", ", ModelKinds.All)}."));
        else if (m.Kind == ModelKinds.Embedding && Providers.Contains(m.Provider) && !EmbeddingProviders.Contains(m.Provider))
            errors.Add((nameof(m.Kind), $"embedding is not served by the {m.Provider} provider (one of {string.Join(", ", EmbeddingProviders)} is)."));
        if (m.CacheTtlSeconds is < 1 or > MaxCacheTtlSeconds) errors.Add((nameof(m.CacheTtlSeconds), $"must be within 1..{MaxCacheTtlSeconds} seconds when set."));
        if (m.LatencySloSeconds is { } latencySlo && !(latencySlo > 0 && latencySlo <= 3600)) errors.Add((nameof(m.LatencySloSeconds), "must be above 0 and at most 3600 seconds when set."));
        if (m.TtftSloSeconds is { } ttftSlo && !(ttftSlo > 0 && ttftSlo <= 3600)) errors.Add((nameof(m.TtftSloSeconds), "must be above 0 and at most 3600 seconds when set."));
        if (m.AvailabilitySlo is { } availability && !(availability > 0 && availability < 1)) errors.Add((nameof(m.AvailabilitySlo), "must be between 0 and 1 (exclusive), such as 0.999, when set."));
        if (m.EmbeddingDimensions is < 1 or > 65_536) errors.Add((nameof(m.EmbeddingDimensions), "must be within 1..65536 when set."));
        if (m.ApiVersion is { } version && (version.Length is 0 or > 64 || !version.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.')))
            errors.Add((nameof(m.ApiVersion), "must be an api-version such as 2024-10-21 (letters, digits, '-', '.')."));
        // The catalog is served by the API: a key in the URL would be served with it.
        if (Uri.TryCreate(m.Endpoint, UriKind.Absolute, out var endpoint) && (endpoint.UserInfo.Length > 0 || endpoint.Query.Length > 0))
            errors.Add((nameof(m.Endpoint), "must hold no user, password or query: put keys in ApiKeyVariable or Kyros:Gateway:ApiKeys."));
        if (m.ApiKeyVariable is { } variable && !IsApiKeyVariable(variable))
            errors.Add((nameof(m.ApiKeyVariable), $"must name an environment variable of the form {ApiKeyVariablePrefix}<NAME> (letters, digits, '_'), not hold a key: only provider keys may be named."));
        if (!Tokenizers.Contains(m.Tokenizer)) errors.Add((nameof(m.Tokenizer), $"must be one of {string.Join(", ", Tokenizers)}."));
        if (m.Capabilities is not { } caps) errors.Add((nameof(m.Capabilities), "must be an object."));
        else
        {
            if (!(caps.Reasoning is >= 0 and <= 1)) errors.Add(($"{nameof(m.Capabilities)}.{nameof(caps.Reasoning)}", "must be within 0..1."));
            if (!(caps.Creativity is >= 0 and <= 1)) errors.Add(($"{nameof(m.Capabilities)}.{nameof(caps.Creativity)}", "must be within 0..1."));
        }
        return errors;
    }

    /// <summary>
    /// The start every <c>api_key_variable</c> must have. A catalog is edited over the API: without it a model could name
    /// one of the silo's own secrets (<c>Kyros__Redis</c>, <c>Kyros__Auth__Keys__0__Key</c>) and have it sent to its endpoint.
    /// </summary>
    public const string ApiKeyVariablePrefix = "KYROS_PROVIDER_";

    public static bool IsApiKeyVariable(string variable) =>
        variable.Length > ApiKeyVariablePrefix.Length && variable.Length <= 256 && variable.StartsWith(ApiKeyVariablePrefix, StringComparison.Ordinal)
        && variable.All(c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_');

    /// <summary>The field as the HTTP API names it: <c>Capabilities.Reasoning</c> is <c>capabilities.reasoning</c>.</summary>
    public static string FieldName(string path) =>
        string.Join('.', path.Split('.').Select(JsonNamingPolicy.SnakeCaseLower.ConvertName));

    /// <summary>Throws for the first fault, naming its field as the API does (with <paramref name="prefix"/>, such as <c>models[3].</c>).</summary>
    public static void Validate(ModelDescriptor? model, string prefix = "")
    {
        var errors = Check(model);
        if (errors.Count == 0) return;
        var (path, message) = errors[0];
        var field = prefix + FieldName(path);
        throw new ArgumentException($"{(field.Length == 0 ? "model" : field)} {message}", field.Length == 0 ? "model" : field);
    }
}
