using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Orleans.Streams;

namespace Kyros.Perf.Client;

/// <summary>Host resources: pushing samples (agents), summaries, alerts, thresholds and scaling advice.</summary>
public sealed partial class KyrosPerfClient
{
    /// <summary>Samples of a host without a silo, oldest first (at most 1,000); all are checked before any is taken.</summary>
    public Task PushSamplesAsync(string node, IReadOnlyList<ResourceSample> samples)
    {
        ResourceValidator.ValidateBatch(node, samples, Time.GetUtcNow(), TimeWindow.Max);
        return Call(async () =>
        {
            await Cluster.GetGrain<INodeResourceGrain>(node).PushAsync(samples);
            return true;
        });
    }

    public Task<NodeSummary> GetNodeSummaryAsync(string node, TimeSpan window)
    {
        ResourceValidator.RequireNodeName(node);
        TimeWindow.Validate(window);
        return Retried(() => Cluster.GetGrain<INodeResourceGrain>(node).GetSummaryAsync(window));
    }

    /// <summary>A host's samples over the window, series by series, at most <paramref name="maxPoints"/> each (for charts).</summary>
    public Task<NodeSeries> GetNodeSeriesAsync(string node, TimeSpan window, int maxPoints = ResourceValidator.DefaultSeriesPoints)
    {
        ResourceValidator.RequireNodeName(node);
        TimeWindow.Validate(window);
        ResourceValidator.RequireSeriesPoints(maxPoints, nameof(maxPoints));
        return Retried(() => Cluster.GetGrain<INodeResourceGrain>(node).GetSeriesAsync(window, maxPoints));
    }

    /// <summary>Every host that has sent samples, and the cluster's figures per metric.</summary>
    public Task<ClusterResourceSummary> GetResourceSummaryAsync(TimeSpan window)
    {
        TimeWindow.Validate(window);
        return Retried(() => Cluster.GetGrain<IResourceSummaryGrain>(0).GetClusterSummaryAsync(window));
    }

    public Task<AlertLogPage> GetAlertsAsync(AlertQuery query) =>
        Retried(() => Cluster.GetGrain<IAlertLogGrain>(0).QueryAsync(query));

    /// <summary>The thresholds in force for the cluster, or on one host when <paramref name="node"/> is given.</summary>
    public async Task<IReadOnlyList<MetricThresholds>> GetThresholdsAsync(string? node = null)
    {
        if (node is not null)
        {
            ResourceValidator.RequireNodeName(node);
            return await Retried(() => Cluster.GetGrain<INodeResourceGrain>(node).GetThresholdsAsync());
        }
        var cluster = await Retried(() => Cluster.GetGrain<IResourceDirectoryGrain>(0).GetClusterThresholdsAsync());
        return DefaultThresholds.Resolve(cluster);
    }

    /// <summary>Sets a metric's thresholds for the cluster, or for one host when <paramref name="node"/> is given.</summary>
    public Task<MetricThresholds> SetThresholdsAsync(string metric, AlertThresholds thresholds, string? node = null)
    {
        ResourceValidator.ValidateThresholds(metric, thresholds);
        if (node is null) return Call(() => Cluster.GetGrain<IResourceDirectoryGrain>(0).SetClusterThresholdAsync(metric, thresholds));
        ResourceValidator.RequireNodeName(node);
        return Call(() => Cluster.GetGrain<INodeResourceGrain>(node).SetThresholdAsync(metric, thresholds));
    }

    public Task<IReadOnlyList<ScalingRecommendation>> GetScalingAsync() =>
        Retried(() => Cluster.GetGrain<IResourceSummaryGrain>(0).GetScalingAsync());

    /// <summary>
    /// Calls <paramref name="onAlert"/> for every alert event raised anywhere in the cluster from now on, until the
    /// returned handle is disposed. Events arrive in order per host.
    /// </summary>
    public async Task<IAsyncDisposable> SubscribeAlertsAsync(Func<AlertEvent, Task> onAlert)
    {
        ArgumentNullException.ThrowIfNull(onAlert);
        var stream = Cluster.GetStreamProvider(AlertStreams.Provider).GetStream<AlertEvent>(StreamId.Create(AlertStreams.Namespace, AlertStreams.All));
        var handle = await stream.SubscribeAsync((alert, _) => onAlert(alert));
        return new Subscription(handle);
    }

    private sealed class Subscription(StreamSubscriptionHandle<AlertEvent> handle) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            try
            {
                await handle.UnsubscribeAsync();
            }
            catch (ObjectDisposedException)
            {
                // The client stopped first; its subscriptions went with it.
            }
        }
    }
}
