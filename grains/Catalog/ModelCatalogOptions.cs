using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>
/// The models a fresh cluster starts with (configuration section <c>Kyros:Catalog</c>; empty means the default catalog).
/// The catalog then lives in <see cref="ModelCatalogGrain"/>: this seeds it on the cluster's first start only.
/// </summary>
public sealed class ModelCatalogOptions
{
    public const string Section = "Kyros:Catalog";

    public List<ModelDescriptor> Models { get; set; } = [];

    /// <summary>
    /// A JSON file of more models, shaped as this section (<c>{"Models": [...]}</c>), read directly: binding configuration
    /// takes time that grows with the square of the keys, minutes for ten thousand models.
    /// </summary>
    public string? File { get; set; }

    /// <summary>
    /// How long records for a removed model are still taken (requests in flight when it was removed, a client's retries);
    /// routing stops choosing it at once.
    /// </summary>
    public TimeSpan RemovalGrace { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How soon a silo asks the catalog grain again after it did not answer (a silo otherwise keeps a call waiting on the
    /// grain, which answers it as soon as a change is stored).
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How many changes <c>GET /v1/models/changes</c> keeps.</summary>
    public int ChangeHistory { get; set; } = 1_000;

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
        if (options.RemovalGrace < TimeSpan.Zero || options.RemovalGrace > TimeSpan.FromDays(1))
            errors.Add($"{ModelCatalogOptions.Section}:RemovalGrace must be within 00:00:00..1.00:00:00.");
        if (options.SyncInterval < TimeSpan.FromMilliseconds(10) || options.SyncInterval > TimeSpan.FromSeconds(10))
            errors.Add($"{ModelCatalogOptions.Section}:SyncInterval must be within 00:00:00.010..00:00:10.");
        if (options.ChangeHistory is < 10 or > 100_000) errors.Add($"{ModelCatalogOptions.Section}:ChangeHistory must be within 10..100000.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Models.Count; i++)
        {
            var m = options.Models[i];
            var at = $"{ModelCatalogOptions.Section}:Models:{i}";
            // The same rules as the catalog API's, named as settings.
            foreach (var (path, message) in ModelDescriptorValidator.Check(m))
                errors.Add($"{at}:{path.Replace('.', ':')} {message}");
            if (m?.Id is { Length: > 0 } id && !seen.Add(id)) errors.Add($"{at}:Id '{id}' appears twice.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
