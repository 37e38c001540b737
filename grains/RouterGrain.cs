using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf;

/// <summary>A stateless worker on every silo: decisions come from the silo's snapshot, with no grain calls of their own.</summary>
[StatelessWorker]
public sealed class RouterGrain(RoutingEngine engine, ILocalSiloDetails silo) : Grain, IRouterGrain
{
    public Task<RoutingDecision> SelectModelAsync(RoutingRequest request) =>
        Task.FromResult(engine.Decide(request, RoutingEngine.SharedDraw));

    public Task<RoutingOutcome[]> SelectModelsAsync(RoutingRequest[] requests)
    {
        RoutingValidator.ValidateBatch(requests);
        var outcomes = new RoutingOutcome[requests.Length];
        for (var i = 0; i < requests.Length; i++)
        {
            try
            {
                outcomes[i] = new RoutingOutcome(engine.Decide(requests[i], RoutingEngine.SharedDraw), null);
            }
            catch (Exception exception)
            {
                // Whatever refuses one request stays with it: the others in the batch still get their decisions.
                outcomes[i] = new RoutingOutcome(null, exception);
            }
        }
        return Task.FromResult(outcomes);
    }

    public Task<IReadOnlyList<RoutingDecision>> GetRecommendationsAsync(RoutingRequest request, int topN) =>
        Task.FromResult(engine.Recommend(request, topN, RoutingEngine.SharedDraw));

    public Task<RouterState> GetStateAsync() => Task.FromResult(engine.State(silo.Name));

    public Task SettleAsync(string model, long reservedTokens, long actualTokens)
    {
        engine.Settle(model, reservedTokens, actualTokens);
        return Task.CompletedTask;
    }
}

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

/// <summary>The silos' latest rate-limit use (<see cref="RateUsageTable"/>).</summary>
public sealed class RateUsageGrain(TimeProvider time) : Grain, IRateUsageGrain
{
    private readonly RateUsageTable _table = new();

    public Task<RateUsageReport> ExchangeAsync(string silo, RateUsage[] mine) => Task.FromResult(_table.Exchange(silo, mine, time.GetUtcNow()));
}
