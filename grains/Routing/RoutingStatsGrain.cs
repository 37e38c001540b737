using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf.Routing;

/// <summary>The cluster's routing statistics: one entry per model, replaced by each publication.</summary>
public sealed class RoutingStatsGrain : Grain, IRoutingStatsGrain
{
    private readonly Dictionary<string, ModelRoutingStats> _stats = new(StringComparer.Ordinal);
    private ModelRoutingStats[]? _all;

    public Task PublishAsync(ModelRoutingStats stats)
    {
        if (_stats.TryGetValue(stats.Model, out var known) && known.ComputedAt > stats.ComputedAt) return Task.CompletedTask;
        _stats[stats.Model] = stats;
        _all = null;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ModelRoutingStats>> GetAllAsync() => Task.FromResult<IReadOnlyList<ModelRoutingStats>>(_all ??= [.. _stats.Values]);
}
