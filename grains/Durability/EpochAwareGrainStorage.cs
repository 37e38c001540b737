using System.Runtime.CompilerServices;
using Orleans.Runtime;
using Orleans.Storage;

namespace Kyros.Perf.Durability;

/// <summary>
/// Orleans' Redis grain storage, made to survive Redis losing its data. A state read before the loss carries an ETag
/// that Redis no longer holds, so every later write of it would fail (<see cref="InconsistentStateException"/>) and the
/// grain, still holding the only copy, could never store it again. Here a write that fails so, for a state last read or
/// written under an older epoch than the one in force, is written as new. A conflict within one epoch (two
/// activations of one grain) still fails as before.
/// </summary>
public sealed class EpochAwareGrainStorage(IGrainStorage inner, RedisEpoch epoch) : IGrainStorage
{
    // The epoch each state object was last read or written under (the object lives as long as its activation).
    private readonly ConditionalWeakTable<object, string> _epochs = new();

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var current = await epoch.CurrentAsync();
        await inner.ReadStateAsync(stateName, grainId, grainState);
        _epochs.AddOrUpdate(grainState, current);
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(grainState, () => inner.WriteStateAsync(stateName, grainId, grainState));

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteAsync(grainState, () => inner.ClearStateAsync(stateName, grainId, grainState));

    private async Task WriteAsync<T>(IGrainState<T> grainState, Func<Task> write)
    {
        var known = await epoch.CurrentAsync();
        try
        {
            await write();
        }
        catch (InconsistentStateException)
        {
            // The ETag is not Redis's: read the marker now rather than at the next check, in case Redis lost its data.
            var current = await epoch.ReadAsync();
            if (!_epochs.TryGetValue(grainState, out var of) || of == current) throw;
            grainState.ETag = null;
            grainState.RecordExists = false;
            await write();
            known = current;
        }
        _epochs.AddOrUpdate(grainState, known);
    }
}
