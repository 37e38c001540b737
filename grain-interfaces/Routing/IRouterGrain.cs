using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf.Routing;

/// <summary>Chooses models (a stateless worker on every silo, working from a snapshot of model statistics).</summary>
[Alias("kyros.IRouterGrain")]
public interface IRouterGrain : IGrainWithIntegerKey
{
    [Alias("select")]
    Task<RoutingDecision> SelectModelAsync(RoutingRequest request);

    /// <summary>
    /// One decision per request, in order, in one call: what the SDK sends when routing calls overlap. A request that is
    /// refused (bad input, no candidate) has its error in its outcome and leaves the others alone.
    /// </summary>
    [Alias("select-many")]
    Task<RoutingOutcome[]> SelectModelsAsync(RoutingRequest[] requests);

    /// <summary>The best <paramref name="topN"/> candidates (0: up to 3 of those that pass), each as the decision that would pick it.</summary>
    [Alias("recommend")]
    Task<IReadOnlyList<RoutingDecision>> GetRecommendationsAsync(RoutingRequest request, int topN);

    /// <summary>The answering silo's router: each model's health, rate-limit share and use, and statistics (health and limits are kept per silo).</summary>
    [Alias("state")]
    Task<RouterState> GetStateAsync();

    /// <summary>Settles a reservation made at decision time with the tokens the request really used.</summary>
    [Alias("settle")]
    Task SettleAsync(string model, long reservedTokens, long actualTokens);
}
