namespace Kyros.Perf.Durability;

/// <summary>The epoch of the store that holds the grains' state: it changes only when the store lost what it held.</summary>
public interface IStoreEpoch
{
    /// <summary>The epoch as last read (read once when not yet known).</summary>
    ValueTask<string> CurrentAsync();

    /// <summary>The epoch read from the store now; a change starts this silo's write-back.</summary>
    Task<string> ReadAsync();
}

/// <summary>The embedded silo's store is its own memory: it loses nothing without losing the silo, so its epoch never changes.</summary>
public sealed class InProcessEpoch : IStoreEpoch
{
    private const string Epoch = "in-process";

    public ValueTask<string> CurrentAsync() => ValueTask.FromResult(Epoch);

    public Task<string> ReadAsync() => Task.FromResult(Epoch);
}
