using Microsoft.Extensions.Options;

namespace Kyros.Perf.Durability;

/// <summary>
/// What an acknowledged write asks of Redis (configuration section <c>Kyros:Redis</c>, beside the connection string that
/// is that section's own value: <c>Kyros__Redis</c> and <c>Kyros__Redis__ReplicaAcks</c> side by side).
/// </summary>
public sealed class RedisDurabilityOptions
{
    public const string Section = "Kyros:Redis";

    /// <summary>
    /// Replicas that must hold a write before it is acknowledged (Redis <c>WAIT</c>): 0 trusts the primary alone; 1 means
    /// a primary lost and replaced by its replica (Sentinel) loses nothing acknowledged.
    /// </summary>
    public int ReplicaAcks { get; set; }

    /// <summary>How long an acknowledged write waits for its replicas before the caller gets a 503 (and retries, deduplicated by request id).</summary>
    public TimeSpan ReplicaAckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Start even when Redis would not keep acknowledged writes across its own restart (no AOF): a warning instead of a
    /// refusal to start in the Production environment. For throwaway clusters only.
    /// </summary>
    public bool AllowVolatile { get; set; }

    /// <summary>How often each silo reads the epoch key that tells whether Redis came back empty or was replaced.</summary>
    public TimeSpan EpochCheckInterval { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class RedisDurabilityOptionsValidator : IValidateOptions<RedisDurabilityOptions>
{
    public ValidateOptionsResult Validate(string? name, RedisDurabilityOptions options)
    {
        var errors = new List<string>();
        if (options.ReplicaAcks is < 0 or > 5)
            errors.Add($"{RedisDurabilityOptions.Section}:ReplicaAcks must be within 0..5; got {options.ReplicaAcks}.");
        if (options.ReplicaAckTimeout < TimeSpan.FromMilliseconds(10) || options.ReplicaAckTimeout > TimeSpan.FromSeconds(30))
            errors.Add($"{RedisDurabilityOptions.Section}:ReplicaAckTimeout must be within 00:00:00.01..00:00:30; got {options.ReplicaAckTimeout}.");
        if (options.EpochCheckInterval < TimeSpan.FromMilliseconds(100) || options.EpochCheckInterval > TimeSpan.FromMinutes(1))
            errors.Add($"{RedisDurabilityOptions.Section}:EpochCheckInterval must be within 00:00:00.1..00:01:00; got {options.EpochCheckInterval}.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
