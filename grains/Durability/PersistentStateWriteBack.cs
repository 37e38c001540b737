namespace Kyros.Perf.Durability;

public static class PersistentStateWriteBack
{
    /// <summary>A grain's state written again as it holds it (<see cref="IStateWriteBack"/>); a state never written has nothing to put back.</summary>
    public static Task WriteBackAsync<T>(this IPersistentState<T> state) => state.RecordExists ? state.WriteStateAsync() : Task.CompletedTask;
}
