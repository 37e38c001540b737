using Kyros.Perf.Alerts;

namespace Kyros.Perf.Client;

/// <summary>Model alert rules: read and changed for the cluster (docs/alerts.md#model-and-key-alerts); notification targets' status.</summary>
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

    /// <summary>Each configured notification target (docs/alerts.md#notifications): queued, sent, failed, the head's attempts, the last error (never the URL).</summary>
    public Task<IReadOnlyList<NotificationTargetStatus>> GetNotificationTargetsAsync() =>
        Retried(() => Cluster.GetGrain<INotificationTargetsGrain>(0).GetTargetsAsync());
}
