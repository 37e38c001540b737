using Orleans.Concurrency;

namespace Kyros.Perf.Alerts;

/// <summary>
/// The cluster's model alert rules (one activation, key 0; grain state in Redis in a cluster). Every silo keeps a call
/// waiting for a newer version (<see cref="WaitForNewerAsync"/>), so a change holds on every silo within one message.
/// </summary>
[Alias("kyros.IModelAlertRulesGrain")]
public interface IModelAlertRulesGrain : IGrainWithIntegerKey
{
    /// <summary>The rules once their version is newer than <paramref name="version"/>, or null after <paramref name="maxWait"/> (0..20 s).</summary>
    [AlwaysInterleave, Alias("wait")]
    Task<ModelAlertRulesSnapshot?> WaitForNewerAsync(long version, TimeSpan maxWait);

    [AlwaysInterleave, Alias("get")]
    Task<ModelAlertRulesSnapshot> GetAsync();

    /// <summary>Replaces one rule's levels (checked: an ArgumentException names the field); stored before it answers.</summary>
    [Alias("set")]
    Task<ModelAlertRulesSnapshot> SetAsync(string rule, ModelRuleLevels levels);
}
