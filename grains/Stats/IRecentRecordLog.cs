
namespace Kyros.Perf.Stats;

/// <summary>
/// The log of recent raw records per model: the ingestion write-ahead log and the dedupe index.
/// A record is acknowledged once it is appended here. Positions rise strictly per model.
/// </summary>
public interface IRecentRecordLog
{
    /// <summary>Appends the records whose request id is new; a duplicate's position is 0. Atomic per call.</summary>
    ValueTask<long[]> AppendAsync(string model, IReadOnlyList<ModelPerformanceRecord> records);

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
