using Orleans.Concurrency;

namespace Kyros.Perf.Stats;

/// <summary>Summaries across the catalog (a stateless worker on every silo).</summary>
[Alias("kyros.IPerformanceSummaryGrain")]
public interface IPerformanceSummaryGrain : IGrainWithIntegerKey
{
    [Alias("cluster-summary")]
    Task<ClusterSummary> GetClusterSummaryAsync(TimeSpan window);
}
