using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Resources;

/// <summary>The hosts the cluster has heard from, and the cluster's thresholds, which it hands to every host when they change.</summary>
public sealed class ResourceDirectoryGrain(
    [PersistentState("resource-directory", KyrosStorage.Name)] IPersistentState<ResourceDirectoryState> state,
    IOptions<ResourceOptions> options,
    ILogger<ResourceDirectoryGrain> logger) : Grain, IResourceDirectoryGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    public async Task<IReadOnlyDictionary<string, AlertThresholds>> RegisterAsync(string node)
    {
        ResourceValidator.RequireNodeName(node);
        if (!state.State.Nodes.Contains(node) && state.State.Nodes.Count >= options.Value.MaxHosts)
            throw new ArgumentException($"The cluster tracks {state.State.Nodes.Count} hosts, its limit ({ResourceOptions.Section}:MaxHosts): '{node}' is not taken.", nameof(node));
        if (state.State.Nodes.Add(node)) await state.WriteStateAsync();
        return state.State.Thresholds;
    }

    public Task<IReadOnlyList<string>> GetNodesAsync() =>
        Task.FromResult<IReadOnlyList<string>>(state.State.Nodes.Order(StringComparer.Ordinal).ToArray());

    public Task<IReadOnlyDictionary<string, AlertThresholds>> GetClusterThresholdsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, AlertThresholds>>(new Dictionary<string, AlertThresholds>(state.State.Thresholds));

    public async Task<MetricThresholds> SetClusterThresholdAsync(string metric, AlertThresholds thresholds)
    {
        ResourceValidator.ValidateThresholds(metric, thresholds);
        state.State.Thresholds[metric] = thresholds;
        await state.WriteStateAsync();
        var snapshot = new Dictionary<string, AlertThresholds>(state.State.Thresholds);
        // Best effort: a host that misses this reads the thresholds again when it next activates.
        await Task.WhenAll(state.State.Nodes.Select(async n =>
        {
            try
            {
                await GrainFactory.GetGrain<INodeResourceGrain>(n).ApplyClusterThresholdsAsync(snapshot);
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                logger.LogWarning("Host {Node} did not take the new cluster thresholds now: {Reason}", n, e.Message);
            }
        }));
        return new MetricThresholds(metric, thresholds, "cluster");
    }
}
