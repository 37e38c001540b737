using Kyros.Perf.Resources;
using Orleans.Concurrency;

namespace Kyros.Perf.Resources;

/// <summary>Views across hosts (a stateless worker on every silo).</summary>
[Alias("kyros.IResourceSummaryGrain")]
public interface IResourceSummaryGrain : IGrainWithIntegerKey
{
    [Alias("cluster-summary")]
    Task<ClusterResourceSummary> GetClusterSummaryAsync(TimeSpan window);

    [Alias("scaling")]
    Task<IReadOnlyList<ScalingRecommendation>> GetScalingAsync();
}
