using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>Calling models (configuration section <c>Kyros:Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Kyros:Gateway";

    /// <summary>Retries per model on a rate limit or a server error, before falling back to the next model.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>The longest Retry-After the gateway waits out; a longer one moves on to the next model.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Wait between retries when the provider names none.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>API keys by model id. Secrets: from configuration or <c>Kyros__Gateway__ApiKeys__&lt;model&gt;</c>; never logged or returned.</summary>
    public Dictionary<string, string> ApiKeys { get; set; } = [];

    /// <summary>The simulated provider's seed; null draws a new one at start. Set it to replay a run.</summary>
    public int? SimulationSeed { get; set; }

    /// <summary>Multiplies the simulated provider's waits: 1 is real time, 0.01 makes a 2 s answer take 20 ms (tests, demos).</summary>
    public double SimulationTimeScale { get; set; } = 1;

    /// <summary>After this long no further retry or fallback is started: a generation ends within it plus one model's timeout.</summary>
    public TimeSpan Deadline { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>The largest prompt or conversation accepted, in characters.</summary>
    public int MaxPromptCharacters { get; set; } = 2_000_000;

    /// <summary>
    /// Whether an answered generation's record is durable before the caller gets the last bytes (true: it survives a
    /// kill of the silo that answered, for one grain call on the answer's path), or queued off the path (false: a silo
    /// killed in those milliseconds loses it).
    /// </summary>
    public bool RecordBeforeAnswer { get; set; } = true;

    /// <summary>
    /// Networks (CIDR) a provider may be reached on beyond public addresses (<see cref="ProviderNetworks"/>): a provider
    /// inside the cluster's own network must be named here.
    /// </summary>
    public List<string> AllowedProviderNetworks { get; set; } = [];

    /// <summary>Whether a provider on this machine (Ollama, vLLM beside the silo) may be reached: loopback addresses.</summary>
    public bool AllowLoopbackProviders { get; set; } = true;

    /// <summary>What <see cref="ProviderNetworks"/> allows beyond public addresses: the networks named, and loopback when allowed.</summary>
    public IEnumerable<string> ProviderNetworksAllowed() => AllowLoopbackProviders ? [.. AllowedProviderNetworks, "127.0.0.0/8", "::1/128"] : AllowedProviderNetworks;
}

public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions o)
    {
        const string s = GatewayOptions.Section;
        var errors = new List<string>();
        if (o.MaxRetries is < 0 or > 10) errors.Add($"{s}:MaxRetries must be within 0..10.");
        if (o.MaxRetryAfter < TimeSpan.Zero || o.MaxRetryAfter > TimeSpan.FromMinutes(5)) errors.Add($"{s}:MaxRetryAfter must be within 0..00:05:00.");
        if (o.RetryDelay < TimeSpan.Zero || o.RetryDelay > TimeSpan.FromMinutes(1)) errors.Add($"{s}:RetryDelay must be within 0..00:01:00.");
        if (!(o.SimulationTimeScale is >= 0 and <= 100)) errors.Add($"{s}:SimulationTimeScale must be within 0..100.");
        if (o.Deadline < TimeSpan.FromSeconds(1) || o.Deadline > TimeSpan.FromMinutes(8)) errors.Add($"{s}:Deadline must be within 00:00:01..00:08:00 (the SDK's call waits 10 minutes).");
        if (o.MaxPromptCharacters is < 1 or > 100_000_000) errors.Add($"{s}:MaxPromptCharacters must be within 1..100000000.");
        foreach (var network in o.AllowedProviderNetworks)
            if (!System.Net.IPNetwork.TryParse(network, out _)) errors.Add($"{s}:AllowedProviderNetworks '{network}' is not a network in CIDR form (10.0.0.0/8, fd00::/8).");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
