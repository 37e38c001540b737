using Kyros.Perf.Resources;
using Orleans.Concurrency;

namespace Kyros.Perf.Resources;

/// <summary>The cluster's hosts and its alert thresholds (one activation, key 0).</summary>
[Alias("kyros.IResourceDirectoryGrain")]
public interface IResourceDirectoryGrain : IGrainWithIntegerKey
{
    [Alias("register")]
    Task<IReadOnlyDictionary<string, AlertThresholds>> RegisterAsync(string node);

    [AlwaysInterleave, Alias("nodes")]
    Task<IReadOnlyList<string>> GetNodesAsync();

    [AlwaysInterleave, Alias("cluster-thresholds")]
    Task<IReadOnlyDictionary<string, AlertThresholds>> GetClusterThresholdsAsync();

    [Alias("set-cluster-threshold")]
    Task<MetricThresholds> SetClusterThresholdAsync(string metric, AlertThresholds thresholds);
}
