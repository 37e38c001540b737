using Microsoft.Extensions.Options;

namespace Kyros.Perf.Stats;

/// <summary>How model statistics grains persist themselves (configuration section <c>Kyros:ModelStats</c>).</summary>
public sealed class ModelStatsOptions
{
    public const string Section = "Kyros:ModelStats";

    /// <summary>How often a grain checkpoints its aggregates and hands changed minutes to history.</summary>
    public TimeSpan CheckpointInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most records in one write to the recent-record log.</summary>
    public int MaxGroupRecords { get; set; } = 10_000;

    /// <summary>Distinct instances a model tracks in its live window; a record naming one more is refused.</summary>
    public int MaxInstancesPerModel { get; set; } = 256;
}

public sealed class ModelStatsOptionsValidator : IValidateOptions<ModelStatsOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelStatsOptions options)
    {
        var errors = new List<string>();
        if (options.CheckpointInterval < TimeSpan.FromSeconds(1) || options.CheckpointInterval > TimeSpan.FromMinutes(10))
            errors.Add($"{ModelStatsOptions.Section}:CheckpointInterval must be within 00:00:01..00:10:00.");
        if (options.MaxInstancesPerModel is < 1 or > 10_000)
            errors.Add($"{ModelStatsOptions.Section}:MaxInstancesPerModel must be within 1..10000.");
        if (options.MaxGroupRecords is < 1 or > 100_000)
            errors.Add($"{ModelStatsOptions.Section}:MaxGroupRecords must be within 1..100000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

/// <summary>A model grain's checkpoint: its ledger as bytes (taken in one turn, so writing it never races new records).</summary>
[GenerateSerializer, Alias("kyros.ModelStatsCheckpoint")]
public sealed class ModelStatsCheckpoint
{
    [Id(0)] public byte[]? Ledger { get; set; }
    [Id(1)] public DateTimeOffset SavedAt { get; set; }
}
