using System.Net;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Auth;

/// <summary>API keys (<c>Kyros:Auth</c>): who may call the HTTP API, with which scopes, how often.</summary>
public sealed class AuthOptions
{
    public const string Section = "Kyros:Auth";

    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Serve without keys on an address other than loopback (otherwise the silo refuses to start).</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary><c>/metrics</c> without a key (for a Prometheus that scrapes without one).</summary>
    public bool OpenMetrics { get; set; }

    /// <summary>How long a pages' session (the sign-in cookie) lasts; signing out ends it at once on every silo.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Failed sign-ins one client address may make a minute on a silo before it is answered 429.</summary>
    public int SignInAttemptsPerMinute { get; set; } = 10;

    /// <summary>
    /// Addresses or networks (CIDR) of the reverse proxies whose <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are
    /// believed: behind a TLS proxy, the request counts as HTTPS (the cookie is <c>Secure</c>) and its client is the
    /// proxy's client. Empty: those headers are ignored, whoever sends them.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    public bool Enabled => Keys.Count > 0;
}

/// <summary>One key: its name (logged and shown as who made a change; the key itself never is), the key, its scopes, its rate.</summary>
public sealed class ApiKeyOptions
{
    public string Name { get; set; } = "";
    public string Key { get; set; } = "";
    public List<string> Scopes { get; set; } = [];
    /// <summary>Requests a minute this key may make; null for no limit.</summary>
    public int? RequestsPerMinute { get; set; }
}

public static class Scopes
{
    /// <summary>Every GET.</summary>
    public const string Read = "read";
    /// <summary>Records, samples, routing decisions, generations, chat completions, feedback, OTLP traces.</summary>
    public const string Write = "write";
    /// <summary>Thresholds, tuning, benchmarks, catalog changes.</summary>
    public const string Admin = "admin";

    public static readonly IReadOnlyList<string> All = [Read, Write, Admin];
}

public sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    /// <summary>Long enough that guessing is hopeless; a generated key (<c>openssl rand -hex 32</c>) is 64.</summary>
    public const int MinKeyLength = 16;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i];
            var at = $"{AuthOptions.Section}:Keys:{i}";
            if (string.IsNullOrWhiteSpace(key.Name) || key.Name.Length > 64 || !key.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                errors.Add($"{at}:Name must be 1-64 letters, digits, '-', '_' or '.'.");
            else if (!names.Add(key.Name)) errors.Add($"{at}:Name '{key.Name}' appears twice.");
            // The key is never echoed, even in this error.
            if (string.IsNullOrEmpty(key.Key) || key.Key.Length < MinKeyLength || key.Key.Any(char.IsWhiteSpace))
                errors.Add($"{at}:Key must be at least {MinKeyLength} characters without spaces.");
            else if (!keys.Add(key.Key)) errors.Add($"{at}:Key is the same as another key's.");
            if (key.Scopes.Count == 0) errors.Add($"{at}:Scopes must name at least one of {string.Join(", ", Scopes.All)}.");
            foreach (var scope in key.Scopes.Where(s => !Scopes.All.Contains(s)))
                errors.Add($"{at}:Scopes '{scope}' is not a scope: {string.Join(", ", Scopes.All)}.");
            if (key.RequestsPerMinute is < 1) errors.Add($"{at}:RequestsPerMinute must be positive when set.");
        }
        if (options.SessionLifetime < TimeSpan.FromMinutes(1) || options.SessionLifetime > TimeSpan.FromDays(30))
            errors.Add($"{AuthOptions.Section}:SessionLifetime must be between 00:01:00 and 30.00:00:00; got {options.SessionLifetime}.");
        if (options.SignInAttemptsPerMinute is < 1 or > 1000)
            errors.Add($"{AuthOptions.Section}:SignInAttemptsPerMinute must be 1-1000; got {options.SignInAttemptsPerMinute}.");
        for (var i = 0; i < options.TrustedProxies.Count; i++)
            if (!System.Net.IPNetwork.TryParse(options.TrustedProxies[i], out _) && !IPAddress.TryParse(options.TrustedProxies[i], out _))
                errors.Add($"{AuthOptions.Section}:TrustedProxies:{i} '{options.TrustedProxies[i]}' is neither an address nor a network (CIDR, e.g. 10.0.0.0/8).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Without keys the silo serves openly only on loopback, unless <see cref="AuthOptions.AllowAnonymous"/> says otherwise.</summary>
    public static string? RefuseOpenListening(AuthOptions options, IEnumerable<string> urls)
    {
        if (options.Enabled || options.AllowAnonymous) return null;
        var exposed = urls.Where(u => !IsLoopback(u)).ToList();
        return exposed.Count == 0
            ? null
            : $"{AuthOptions.Section}:Keys: none are configured and the silo listens on {string.Join(", ", exposed)}, beyond loopback: " +
              $"configure keys, or set {AuthOptions.Section}:AllowAnonymous=true to serve anyone who reaches the port.";
    }

    /// <summary>Beyond loopback a configured key must be at least this long: 32 characters of a generated key are 128 bits or more.</summary>
    public const int MinExposedKeyLength = 32;

    /// <summary>Keys that ship in examples and manifests: deployed unchanged, everyone knows them.</summary>
    private static readonly string[] Placeholders = ["replace-with-a-generated-key", "change-me", "changeme", "your-api-key", "placeholder"];

    /// <summary>
    /// Listening beyond loopback, a placeholder key or one under <see cref="MinExposedKeyLength"/> characters stops the
    /// silo (exit code 2), naming the key's setting but never the key.
    /// </summary>
    public static IEnumerable<string> RefuseWeakKeys(AuthOptions options, IEnumerable<string> urls)
    {
        var exposed = urls.Where(u => !IsLoopback(u)).ToList();
        if (exposed.Count == 0) yield break;
        for (var i = 0; i < options.Keys.Count; i++)
        {
            var key = options.Keys[i].Key ?? "";
            if (Placeholders.Any(p => key.Contains(p, StringComparison.OrdinalIgnoreCase)))
                yield return $"{AuthOptions.Section}:Keys:{i}:Key is a placeholder from an example or manifest, and the silo listens on {string.Join(", ", exposed)}: generate a key (openssl rand -hex 32).";
            else if (key.Length < MinExposedKeyLength)
                yield return $"{AuthOptions.Section}:Keys:{i}:Key is under {MinExposedKeyLength} characters, and the silo listens on {string.Join(", ", exposed)}: generate a key (openssl rand -hex 32).";
        }
    }

    public static bool IsLoopback(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return false;
        if (uri.IsLoopback) return true;
        return IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
