using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Alerts;

/// <summary>The cluster's model alert rules: stored before answering, then handed to this silo and the silos waiting for a newer version.</summary>
public sealed class ModelAlertRulesGrain(
    [PersistentState("model-alert-rules", KyrosStorage.Name)] IPersistentState<ModelAlertRulesState> state,
    ModelAlertRuleBook book,
    ILogger<ModelAlertRulesGrain> logger) : Grain, IModelAlertRulesGrain, IStateWriteBack
{
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private ModelAlertRulesSnapshot Stored => new(state.State.Version, state.State.Rules ?? ModelAlertRules.Default);

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _changed.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task<ModelAlertRulesSnapshot?> WaitForNewerAsync(long version, TimeSpan maxWait)
    {
        if (maxWait < TimeSpan.Zero || maxWait > TimeSpan.FromSeconds(20)) throw new ArgumentException("maxWait must be within 0..20 s.", nameof(maxWait));
        if (state.State.Version <= version && maxWait > TimeSpan.Zero) await Task.WhenAny(_changed.Task, Task.Delay(maxWait));
        return state.State.Version > version ? Stored : null;
    }

    public Task<ModelAlertRulesSnapshot> GetAsync() => Task.FromResult(Stored);

    public async Task<ModelAlertRulesSnapshot> SetAsync(string rule, ModelRuleLevels levels)
    {
        var rules = Stored.Rules.With(rule, levels);
        var previous = (state.State.Version, state.State.Rules);
        state.State.Rules = rules;
        state.State.Version++;
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored: what is served stays what is stored.
            (state.State.Version, state.State.Rules) = previous;
            throw;
        }
        book.Apply(Stored);
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
        logger.LogInformation("Model alert rules v{Version}: {Rule} now warning {Warning}, critical {Critical}, min calls {MinCalls}",
            state.State.Version, rule, levels.Warning, levels.Critical, levels.MinCalls);
        return Stored;
    }
}

[GenerateSerializer, Alias("kyros.ModelAlertRulesState")]
public sealed class ModelAlertRulesState
{
    [Id(0)] public long Version { get; set; }
    /// <summary>Null until first changed: the defaults.</summary>
    [Id(1)] public ModelAlertRules? Rules { get; set; }
}
