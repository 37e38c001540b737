
namespace Kyros.Perf.Stats;

/// <summary>
/// The log of recent raw records per model: the ingestion write-ahead log and the dedupe index.
/// A record is acknowledged once it is appended here. Positions rise strictly per model.
/// </summary>
public interface IRecentRecordLog
{
    /// <summary>
    /// Appends the records whose request id is new; a duplicate's position is 0. Atomic per call. With
    /// <paramref name="writer"/>, refuses with <see cref="LogEpochException"/> (writing nothing) when the store no longer
    /// holds the model's data under the writer's epoch: Redis lost it, and the writer must write back what it holds first.
    /// </summary>
    ValueTask<long[]> AppendAsync(string model, IReadOnlyList<ModelPerformanceRecord> records, WriterEpoch? writer = null);

    /// <summary>
    /// After the writer wrote back everything it holds (a checkpoint up to <paramref name="position"/>) under
    /// <paramref name="epoch"/>: its appends are taken again, and get positions above <paramref name="position"/>.
    /// </summary>
    Task MarkWrittenBackAsync(string model, string epoch, long position);

    /// <summary>Records after <paramref name="afterPosition"/>, oldest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<LoggedRecord>> ReadAfterAsync(string model, long afterPosition, int max);

    /// <summary>Whether the log still holds a record with this request id (records older than the retention are gone).</summary>
    Task<bool> ContainsAsync(string model, string requestId);

    /// <summary>The newest records, newest first.</summary>
    Task<IReadOnlyList<ModelPerformanceRecord>> ReadLatestAsync(string model, int limit);

    /// <summary>Everything up to <paramref name="position"/> is in a checkpoint, so it may be trimmed once old.</summary>
    Task MarkCheckpointAsync(string model, long position);

    /// <summary>Forgets the model: its records, request ids and checkpoint mark (a model removed from the catalog, once no window reaches it).</summary>
    Task DeleteAsync(string model);

    /// <summary>Whether the log's store answers.</summary>
    Task<bool> IsHealthyAsync();
}

public readonly record struct LoggedRecord(long Position, ModelPerformanceRecord Record);

/// <summary>
/// The epoch under which a writer's state is in the store (<see cref="Durability.RedisEpoch"/>), and whether it holds
/// nothing from the store (a model's first records, or state rebuilt from history): such a writer may start the model's
/// log under its epoch.
/// </summary>
public readonly record struct WriterEpoch(string Epoch, bool HoldsNothing);

/// <summary>The store does not hold the model's data under the writer's epoch: nothing was written.</summary>
public sealed class LogEpochException(string model, string found)
    : Exception($"The recent-record log of model '{model}' is under epoch {found}, not the writer's: Redis lost its data since the writer read it.");

public sealed class RecentRecordLogOptions
{
    public const string Section = "Kyros:RecentRecords";

    /// <summary>How long raw records (and their request ids, for dedupe) are kept.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Most records a model's log holds; beyond it the oldest records that a checkpoint holds go first (a record in no
    /// checkpoint yet is never dropped, so the log may pass the cap while checkpoints lag). Past it, an old request id may be recorded again.
    /// </summary>
    public long MaxRecordsPerModel { get; set; } = 1_000_000;

    /// <summary>Redis key prefix; keeps several deployments apart on one Redis.</summary>
    public string KeyPrefix { get; set; } = "kyros";
}
