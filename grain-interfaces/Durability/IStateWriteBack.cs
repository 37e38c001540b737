namespace Kyros.Perf.Durability;

/// <summary>
/// A grain that keeps state in Redis and can write all of it again: what a silo asks of each of its live activations
/// when Redis came back without the cluster's data (see <c>RedisEpoch</c>), so that nothing they acknowledged is lost.
/// </summary>
public interface IStateWriteBack : IGrain
{
    /// <summary>Writes everything the activation holds under <paramref name="epoch"/>; a second call for the same epoch does nothing.</summary>
    Task WriteBackAsync(string epoch);
}
