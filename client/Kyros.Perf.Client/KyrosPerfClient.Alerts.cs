using Kyros.Perf.Alerts;

namespace Kyros.Perf.Client;

/// <summary>Model alert rules: read and changed for the cluster (docs/alerts.md#model-and-key-alerts).</summary>
public sealed partial class KyrosPerfClient
{
    public Task<ModelAlertRulesSnapshot> GetModelAlertRulesAsync() => Retried(() => Cluster.GetGrain<IModelAlertRulesGrain>(0).GetAsync());

    /// <summary>Sets one rule's levels (checked here first: an ArgumentException names the field); every silo's model grains use them.</summary>
    public Task<ModelAlertRulesSnapshot> SetModelAlertRuleAsync(string rule, ModelRuleLevels levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ModelAlertRules.Validate(rule, levels);
        return Call(() => Cluster.GetGrain<IModelAlertRulesGrain>(0).SetAsync(rule, levels));
    }
}
