using Kyros.Perf.Resources;
using Orleans.Concurrency;

namespace Kyros.Perf.Resources;

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

    /// <summary>Every series' samples over the window, at most <paramref name="maxPoints"/> each, always ending with the newest.</summary>
    [AlwaysInterleave, Alias("series")]
    Task<NodeSeries> GetSeriesAsync(TimeSpan window, int maxPoints);

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
