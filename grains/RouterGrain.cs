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

/// <summary>The silos' latest rate-limit use; a silo's report counts for a minute, as its reservations do.</summary>
public sealed class RateUsageGrain(TimeProvider time) : Grain, IRateUsageGrain
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, (DateTimeOffset At, RateUsage[] Usage)> _silos = new(StringComparer.Ordinal);

    public Task<RateUsageReport> ExchangeAsync(string silo, RateUsage[] mine)
    {
        var now = time.GetUtcNow();
        // Use is never negative (a report below nothing would lift every silo's limit), and an entry without a model is dropped.
        _silos[silo] = (now, [.. mine.Where(u => u?.Model is not null).Select(u => u with { Requests = Math.Max(0, u.Requests), Tokens = Math.Max(0, u.Tokens) })]);
        var others = new Dictionary<string, RateUsage>(StringComparer.Ordinal);
        foreach (var (name, (at, usage)) in _silos.ToArray())
        {
            // A silo that stopped reporting (it left) counts until its last minute is over.
            if (now - at > Window) _silos.Remove(name);
            else if (name != silo)
                foreach (var u in usage)
                    others[u.Model] = others.TryGetValue(u.Model, out var sum)
                        ? sum with { Requests = (int)Math.Min(int.MaxValue, (long)sum.Requests + u.Requests), Tokens = SaturatingAdd(sum.Tokens, u.Tokens) }
                        : u;
        }
        return Task.FromResult(new RateUsageReport(_silos.Count, [.. others.Values]));
    }

    private static long SaturatingAdd(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}
