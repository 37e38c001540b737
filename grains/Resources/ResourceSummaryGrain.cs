using Kyros.Perf.Resources;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Kyros.Perf.Resources;

/// <summary>Fans out to every known host for the cluster's resource summary and for scaling advice.</summary>
[StatelessWorker]
public sealed class ResourceSummaryGrain(IOptions<ResourceOptions> options, ILogger<ResourceSummaryGrain> logger) : Grain, IResourceSummaryGrain
{
    public async Task<ClusterResourceSummary> GetClusterSummaryAsync(TimeSpan window)
    {
        options.Value.RequireKeptWindow(window, "window");
        var summaries = await FromEveryHostAsync(n => GrainFactory.GetGrain<INodeResourceGrain>(n).GetSummaryAsync(window));
        return new ClusterResourceSummary(window, summaries, ClusterMetrics.Merge(summaries));
    }

    public async Task<IReadOnlyList<ScalingRecommendation>> GetScalingAsync()
    {
        var o = options.Value;
        var usage = await FromEveryHostAsync(n => GrainFactory.GetGrain<INodeResourceGrain>(n).GetUsageAsync(o.ScaleOutWindow, o.ScaleInWindow));
        return ScalingAdvisor.Advise(usage, o);
    }

    /// <summary>Asks every known host; one that does not answer is left out (and logged) rather than failing the whole view.</summary>
    private async Task<T[]> FromEveryHostAsync<T>(Func<string, Task<T>> ask) where T : class
    {
        var nodes = await GrainFactory.GetGrain<IResourceDirectoryGrain>(0).GetNodesAsync();
        var answers = await Task.WhenAll(nodes.Select(async n =>
        {
            try
            {
                return await ask(n);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                logger.LogWarning("Host {Node} left out of the cluster view: {Reason}", n, e.Message);
                return null;
            }
        }));
        return answers.OfType<T>().ToArray();
    }
}
