using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>The models Kyros.Perf knows (configuration section <c>Kyros:Catalog</c>). Empty means the default catalog.</summary>
public sealed class ModelCatalogOptions
{
    public const string Section = "Kyros:Catalog";

    public List<ModelDescriptor> Models { get; set; } = [];
}

/// <summary>Fills an empty catalog with the defaults (binding appends to lists, so defaults are not set in the initialiser).</summary>
public sealed class DefaultCatalogSetup : IPostConfigureOptions<ModelCatalogOptions>
{
    public void PostConfigure(string? name, ModelCatalogOptions options)
    {
        if (options.Models.Count == 0) options.Models.AddRange(DefaultCatalog.Create());
    }
}

public sealed class ModelCatalogOptionsValidator : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = new List<string>();
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
