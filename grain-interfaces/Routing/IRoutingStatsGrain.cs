using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf.Routing;

/// <summary>The cluster's table of routing statistics: model grains publish, routers read.</summary>
[Alias("kyros.IRoutingStatsGrain")]
public interface IRoutingStatsGrain : IGrainWithIntegerKey
{
    [OneWay, Alias("publish")]
    Task PublishAsync(ModelRoutingStats stats);

    [AlwaysInterleave, Alias("all")]
    Task<IReadOnlyList<ModelRoutingStats>> GetAllAsync();
}
