using Orleans.Concurrency;

namespace Kyros.Perf.Tuning;

/// <summary>
/// The cluster's tuner (one activation, key 0): a timer-driven cycle reads every model's and host's statistics, the alert
/// history and the router's state, proposes changes, applies those that pass the gates, watches them and rolls back what
/// made things worse.
/// </summary>
[Alias("kyros.ITunerGrain")]
public interface ITunerGrain : IGrainWithIntegerKey
{
    [AlwaysInterleave, Alias("status")]
    Task<TuningStatusReport> GetStatusAsync();

    /// <summary>Runs a cycle now (after any cycle in progress), even when tuning is disabled.</summary>
    [Alias("run")]
    Task<TuningCycleResult> RunCycleAsync();

    [Alias("configure")]
    Task<TuningConfiguration> UpdateConfigurationAsync(TuningConfigurationUpdate update);

    [AlwaysInterleave, Alias("recommendations")]
    Task<IReadOnlyList<TuningRecommendation>> GetRecommendationsAsync(TuningQuery query);

    /// <summary>Applies a proposed recommendation (an operator's decision: the gates are not asked).</summary>
    [Alias("apply")]
    Task<TuningRecommendation> ApplyAsync(string id);

    [Alias("reject")]
    Task<TuningRecommendation> RejectAsync(string id);

    /// <summary>Undoes an applied (or kept) change.</summary>
    [Alias("rollback")]
    Task<TuningRecommendation> RollbackAsync(string id);

    [AlwaysInterleave, Alias("history")]
    Task<IReadOnlyList<TuningHistoryEntry>> GetHistoryAsync(DateTimeOffset from, DateTimeOffset to);

    /// <summary>What routing and the gateway honour; pulled by every silo's routing snapshot, which also keeps the tuner active.</summary>
    [AlwaysInterleave, Alias("overrides")]
    Task<TuningOverrides> GetOverridesAsync();
}
