using Kyros.Perf.Tuning;

namespace Kyros.Perf.Client;

/// <summary>The tuner: its status, cycles on demand, configuration, recommendations and history.</summary>
public sealed partial class KyrosPerfClient
{
    /// <summary>The most recommendations one query lists, as over HTTP.</summary>
    public const int MaxTuningRecommendations = 1000;

    private ITunerGrain Tuner => Cluster.GetGrain<ITunerGrain>(0);

    /// <summary>The tuner's configuration, last and next cycle, changes under evaluation, recent recommendations and overrides.</summary>
    public Task<TuningStatusReport> GetTuningStatusAsync() => Retried(() => Tuner.GetStatusAsync());

    /// <summary>Runs a tuning cycle now (after any cycle in progress), even when tuning is disabled, and returns what it did.</summary>
    public Task<TuningCycleResult> RunTuningCycleAsync() => Call(() => Tuner.RunCycleAsync());

    /// <summary>Changes the fields given in <paramref name="update"/> (ranges checked by the tuner) and returns the new configuration.</summary>
    public Task<TuningConfiguration> UpdateTuningConfigurationAsync(TuningConfigurationUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (update == new TuningConfigurationUpdate()) throw new ArgumentException("The update changes nothing: give at least one field.", "body");
        return Call(() => Tuner.UpdateConfigurationAsync(update));
    }

    /// <summary>Recommendations filtered by <paramref name="query"/> (status, target, since; limit 1-1,000).</summary>
    public Task<IReadOnlyList<TuningRecommendation>> GetTuningRecommendationsAsync(TuningQuery? query = null)
    {
        query ??= new TuningQuery();
        if (query.Limit is < 1 or > MaxTuningRecommendations)
            throw new ArgumentException($"limit must be within 1..{MaxTuningRecommendations} (got {query.Limit}).", "limit");
        return Retried(() => Tuner.GetRecommendationsAsync(query));
    }

    /// <summary>Applies a proposed recommendation as an operator (the gates are not asked); returns it as applied.</summary>
    public Task<TuningRecommendation> ApplyAsync(string id)
    {
        TuningValidator.RequireId(id);
        return Call(() => Tuner.ApplyAsync(id));
    }

    /// <summary>Rejects a proposed recommendation; returns it as rejected.</summary>
    public Task<TuningRecommendation> RejectAsync(string id)
    {
        TuningValidator.RequireId(id);
        return Call(() => Tuner.RejectAsync(id));
    }

    /// <summary>Undoes an applied (or kept) change; returns the recommendation as rolled back.</summary>
    public Task<TuningRecommendation> RollbackAsync(string id)
    {
        TuningValidator.RequireId(id);
        return Call(() => Tuner.RollbackAsync(id));
    }

    /// <summary>Every change of status of a recommendation between <paramref name="from"/> and <paramref name="to"/>.</summary>
    public Task<IReadOnlyList<TuningHistoryEntry>> GetTuningHistoryAsync(DateTimeOffset from, DateTimeOffset to)
    {
        if (from > to) throw new ArgumentException($"from ({from:O}) is after to ({to:O}).", "from");
        return Retried(() => Tuner.GetHistoryAsync(from, to));
    }
}
