using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Otlp;

/// <summary>OTLP trace ingestion (<c>Kyros:Otlp</c>): GenAI spans in over <c>POST /v1/traces</c> become performance records.</summary>
public sealed class OtlpOptions
{
    public const string Section = "Kyros:Otlp";

    /// <summary>The model names applications send (<c>gen_ai.request.model</c>) mapped to catalog ids: <c>gpt-4o-2024-08-06</c> → <c>gpt-4</c>.</summary>
    public Dictionary<string, string> ModelAliases { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Another address to serve <c>/v1/traces</c> on, such as OTLP/HTTP's conventional <c>http://0.0.0.0:4318</c>; unset: the silo's HTTP port only.</summary>
    public string? HttpUrl { get; set; }

    /// <summary>Spans of these instrumentation scopes are Kyros' own (its gateway records its generations itself): never recorded twice.</summary>
    public List<string> IgnoredScopes { get; set; } = [Common.KyrosTelemetry.Prefix];
}

public sealed class OtlpOptionsValidator : IValidateOptions<OtlpOptions>
{
    public ValidateOptionsResult Validate(string? name, OtlpOptions options)
    {
        var errors = new List<string>();
        foreach (var (alias, model) in options.ModelAliases)
            if (string.IsNullOrWhiteSpace(alias) || string.IsNullOrWhiteSpace(model))
                errors.Add($"{OtlpOptions.Section}:ModelAliases:{alias} must map a model name to a catalog id.");
        if (options.HttpUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.AbsolutePath != "/"))
            errors.Add($"{OtlpOptions.Section}:HttpUrl must be an http(s) address without a path, such as http://0.0.0.0:4318.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
