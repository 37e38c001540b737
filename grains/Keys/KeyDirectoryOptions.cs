using Microsoft.Extensions.Options;

namespace Kyros.Perf.Keys;

/// <summary>The run-time keys (<c>Kyros:Keys</c>): how soon a silo asks the directory again after it did not answer.</summary>
public sealed class KeyDirectoryOptions
{
    public const string Section = "Kyros:Keys";

    /// <summary>A silo otherwise keeps a call waiting on the directory, which answers it as soon as a change is stored.</summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How many keys the directory holds at most.</summary>
    public int MaxKeys { get; set; } = 10_000;

    /// <summary>The names of the keys configured in <c>Kyros:Auth:Keys</c> (filled in from there): run-time keys may not take them.</summary>
    public HashSet<string> ConfiguredNames { get; } = new(StringComparer.Ordinal);
}

public sealed class KeyDirectoryOptionsValidator : IValidateOptions<KeyDirectoryOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyDirectoryOptions options)
    {
        var errors = new List<string>();
        if (options.SyncInterval < TimeSpan.FromMilliseconds(10) || options.SyncInterval > TimeSpan.FromSeconds(1))
            errors.Add($"{KeyDirectoryOptions.Section}:SyncInterval must be within 00:00:00.010..00:00:01 (keys must hold everywhere within 2 s).");
        if (options.MaxKeys is < 1 or > 1_000_000) errors.Add($"{KeyDirectoryOptions.Section}:MaxKeys must be within 1..1000000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
