using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>The models Kyros.Perf knows (configuration section <c>Kyros:Catalog</c>). Empty means the default catalog.</summary>
public sealed class ModelCatalogOptions
{
    public const string Section = "Kyros:Catalog";

    public List<ModelDescriptor> Models { get; set; } = [];

    /// <summary>
    /// A JSON file of more models, shaped as this section (<c>{"Models": [...]}</c>), read directly: binding configuration
    /// takes time that grows with the square of the keys, minutes for ten thousand models.
    /// </summary>
    public string? File { get; set; }

    /// <summary>Why <see cref="File"/> could not be read, for the validator to report.</summary>
    internal string? FileError { get; set; }
}

/// <summary>
/// Adds the models of <see cref="ModelCatalogOptions.File"/>, then fills a catalog still empty with the defaults (binding
/// appends to lists, so defaults are not set in the initialiser).
/// </summary>
public sealed class DefaultCatalogSetup : IPostConfigureOptions<ModelCatalogOptions>
{
    private static readonly System.Text.Json.JsonSerializerOptions FileJson = new() { PropertyNameCaseInsensitive = true };

    public void PostConfigure(string? name, ModelCatalogOptions options)
    {
        if (options.File is { Length: > 0 } path)
        {
            try
            {
                using var stream = System.IO.File.OpenRead(path);
                var fromFile = System.Text.Json.JsonSerializer.Deserialize<ModelCatalogOptions>(stream, FileJson);
                options.Models.AddRange(fromFile?.Models ?? []);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or System.Text.Json.JsonException or NotSupportedException)
            {
                options.FileError = exception.Message;
            }
        }
        if (options.Models.Count == 0 && options.FileError is null) options.Models.AddRange(DefaultCatalog.Create());
    }
}

public sealed class ModelCatalogOptionsValidator : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = new List<string>();
        if (options.FileError is not null) errors.Add($"{ModelCatalogOptions.Section}:File '{options.File}' could not be read: {options.FileError}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Models.Count; i++)
        {
            var m = options.Models[i];
            var at = $"{ModelCatalogOptions.Section}:Models:{i}";
            // 128 at most, so the gateway's request ids (which carry the model id) stay within a record's 256.
            if (string.IsNullOrWhiteSpace(m.Id) || m.Id.Length > 128) errors.Add($"{at}:Id must be 1-128 characters.");
            else if (!seen.Add(m.Id)) errors.Add($"{at}:Id '{m.Id}' appears twice.");
            if (m.Provider is not ("simulated" or "openai-compatible")) errors.Add($"{at}:Provider must be 'simulated' or 'openai-compatible'.");
            if (!(m.InputPricePer1k >= 0) || !(m.OutputPricePer1k >= 0)) errors.Add($"{at}: prices must be non-negative.");
            if (m.ContextWindow < 1 || m.MaxOutputTokens < 1) errors.Add($"{at}: ContextWindow and MaxOutputTokens must be positive.");
            if (!(m.LatencyPrior > 0)) errors.Add($"{at}:LatencyPrior must be positive seconds.");
            if (!(m.QualityPrior is >= 0 and <= 1)) errors.Add($"{at}:QualityPrior must be within 0..1.");
            if (!(m.TimeoutSeconds > 0)) errors.Add($"{at}:TimeoutSeconds must be positive.");
            if (m.RequestsPerMinute < 1 || m.TokensPerMinute < 1) errors.Add($"{at}: RequestsPerMinute and TokensPerMinute must be positive when set.");
            foreach (var host in m.Hosts.Where(h => !Resources.ResourceValidator.IsNodeName(h)))
                errors.Add($"{at}:Hosts '{host}' is not a host name (letters, digits, '.', '_' or '-').");
            var sim = m.Simulation;
            if (!(sim.TtftMedianSeconds > 0) || !(sim.Spread is >= 0 and <= 3) || !(sim.TokensPerSecond > 0) || !(sim.ErrorRate is >= 0 and <= 1)
                || !(sim.TimeoutShare >= 0) || !(sim.RateLimitShare >= 0) || !(sim.TimeoutShare + sim.RateLimitShare <= 1) || !(sim.RetryAfterSeconds >= 0))
                errors.Add($"{at}:Simulation needs TtftMedianSeconds > 0, Spread 0..3, TokensPerSecond > 0, ErrorRate 0..1, TimeoutShare + RateLimitShare <= 1 and RetryAfterSeconds >= 0.");
            if (m.Provider == "openai-compatible" && !Uri.TryCreate(m.Endpoint, UriKind.Absolute, out _))
                errors.Add($"{at}:Endpoint must be an absolute URL (the API's base, such as http://127.0.0.1:11434/v1) for an openai-compatible model.");
            // The catalog is served by the API: a key in the URL would be served with it.
            if (Uri.TryCreate(m.Endpoint, UriKind.Absolute, out var endpoint) && (endpoint.UserInfo.Length > 0 || endpoint.Query.Length > 0))
                errors.Add($"{at}:Endpoint must hold no user, password or query: put keys in ApiKeyVariable or Kyros:Gateway:ApiKeys.");
            if (!Routing.PromptTokens.Encodings.Contains(m.Tokenizer))
                errors.Add($"{at}:Tokenizer must be one of {string.Join(", ", Routing.PromptTokens.Encodings)}.");
            if (!(m.Capabilities.Reasoning is >= 0 and <= 1) || !(m.Capabilities.Creativity is >= 0 and <= 1))
                errors.Add($"{at}:Capabilities Reasoning and Creativity must be within 0..1.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
