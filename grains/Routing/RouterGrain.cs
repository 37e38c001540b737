using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf.Routing;

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
