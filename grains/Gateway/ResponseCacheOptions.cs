using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>The exact response cache (configuration section <c>Kyros:Gateway:Cache</c>); which answers are cached is the catalog's and the request's.</summary>
public sealed class ResponseCacheOptions
{
    public const string Section = "Kyros:Gateway:Cache";

    /// <summary>The largest answer cached, in bytes as stored; a larger one is answered and not cached.</summary>
    public int MaxEntryBytes { get; set; } = 256 * 1024;

    /// <summary>Embedded (in-memory) cache: most entries held; the least recently used goes first.</summary>
    public int MaxEntries { get; set; } = 10_000;

    /// <summary>Embedded (in-memory) cache: most bytes held in all.</summary>
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long a read or write of the cache may take before it counts as a miss (or is given up): a hung Redis never holds a call longer.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMilliseconds(250);
}

public sealed class ResponseCacheOptionsValidator : IValidateOptions<ResponseCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, ResponseCacheOptions o)
    {
        const string s = ResponseCacheOptions.Section;
        var errors = new List<string>();
        if (o.MaxEntryBytes is < 1_024 or > 16 * 1024 * 1024) errors.Add($"{s}:MaxEntryBytes must be within 1024..16777216.");
        if (o.MaxEntries is < 1 or > 10_000_000) errors.Add($"{s}:MaxEntries must be within 1..10000000.");
        if (o.MaxBytes < o.MaxEntryBytes || o.MaxBytes > 64L * 1024 * 1024 * 1024) errors.Add($"{s}:MaxBytes must be within MaxEntryBytes..68719476736.");
        if (o.Timeout < TimeSpan.FromMilliseconds(1) || o.Timeout > TimeSpan.FromSeconds(5)) errors.Add($"{s}:Timeout must be within 00:00:00.001..00:00:05.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
