using Kyros.Perf.Resources;
using Orleans.Concurrency;

namespace Kyros.Perf;

/// <summary>
/// One host's resources (key: the host name). On a host with a silo it runs on that silo and samples the host on a
/// timer; a host without one pushes samples through the SDK (<c>kyros-perf agent</c>).
/// </summary>
[Alias("kyros.INodeResourceGrain")]
public interface INodeResourceGrain : IGrainWithStringKey
{
    /// <summary>Samples pushed by an agent, oldest first; all are checked before any is taken.</summary>
    [Alias("push")]
    Task PushAsync(IReadOnlyList<ResourceSample> samples);

    /// <summary>Starts sampling this silo's own host; false when the grain's host is not this silo's.</summary>
    [Alias("start-sampling")]
    Task<bool> StartSamplingAsync();

    [AlwaysInterleave, Alias("summary")]
    Task<NodeSummary> GetSummaryAsync(TimeSpan window);

    [AlwaysInterleave, Alias("usage")]
    Task<NodeUsage> GetUsageAsync(TimeSpan recent, TimeSpan sustained);

    /// <summary>The thresholds in force on this host, per metric, with where each comes from.</summary>
    [AlwaysInterleave, Alias("thresholds")]
    Task<IReadOnlyList<MetricThresholds>> GetThresholdsAsync();

    /// <summary>Overrides the cluster's thresholds for one metric on this host.</summary>
    [Alias("set-threshold")]
    Task<MetricThresholds> SetThresholdAsync(string metric, AlertThresholds thresholds);

    /// <summary>The cluster's thresholds changed (sent by the directory; interleaved, so it never waits on the host's own calls to the directory).</summary>
    [AlwaysInterleave, Alias("cluster-thresholds")]
    Task ApplyClusterThresholdsAsync(IReadOnlyDictionary<string, AlertThresholds> thresholds);
}

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

/// <summary>Every alert event of the cluster and the alerts still active (one activation, key 0; SQLite keeps history).</summary>
[Alias("kyros.IAlertLogGrain")]
public interface IAlertLogGrain : IGrainWithIntegerKey
{
    [Alias("append")]
    Task AppendAsync(IReadOnlyList<AlertEvent> events);

    [AlwaysInterleave, Alias("query")]
    Task<AlertLogPage> QueryAsync(AlertQuery query);
}

/// <summary>Views across hosts (a stateless worker on every silo).</summary>
[Alias("kyros.IResourceSummaryGrain")]
public interface IResourceSummaryGrain : IGrainWithIntegerKey
{
    [Alias("cluster-summary")]
    Task<ClusterResourceSummary> GetClusterSummaryAsync(TimeSpan window);

    [Alias("scaling")]
    Task<IReadOnlyList<ScalingRecommendation>> GetScalingAsync();
}
