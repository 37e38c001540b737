using Orleans.Concurrency;

namespace Kyros.Perf.Stats;

/// <summary>
/// One model's live statistics (key: the model id). A record is acknowledged once it is in the
/// recent-record log, so an acknowledged record survives the loss of the silo that took it.
/// </summary>
[Alias("kyros.IModelStatsGrain")]
public interface IModelStatsGrain : IGrainWithStringKey
{
    /// <summary>Concurrent callers' records share one write to the log.</summary>
    [AlwaysInterleave, Alias("record")]
    Task<RecordResult> RecordAsync(ModelPerformanceRecord record);

    [AlwaysInterleave, Alias("record-batch")]
    Task<RecordResult> RecordBatchAsync(IReadOnlyList<ModelPerformanceRecord> records);

    /// <summary>The model's summary over the window, or one instance's when <paramref name="instance"/> is given.</summary>
    [AlwaysInterleave, Alias("summary")]
    Task<ModelSummary> GetSummaryAsync(TimeSpan window, string? instance = null);

    /// <summary>One summary per instance seen in the window (records without an instance are not among them).</summary>
    [AlwaysInterleave, Alias("instance-summaries")]
    Task<IReadOnlyList<ModelSummary>> GetInstanceSummariesAsync(TimeSpan window);

    /// <summary>The window's aggregate, for exact merges across models.</summary>
    [AlwaysInterleave, Alias("aggregate")]
    Task<MetricsAggregate> GetAggregateAsync(TimeSpan window);

    /// <summary>The newest records from the recent-record log, newest first.</summary>
    [AlwaysInterleave, Alias("recent")]
    Task<IReadOnlyList<ModelPerformanceRecord>> GetRecentRecordsAsync(int limit);

    /// <summary>
    /// A quality score for a request this model served (taken at <paramref name="requestedAt"/>): recorded once, like a record.
    /// Unknown when the request id is not in the recent-record log (never recorded, or older than its retention).
    /// </summary>
    [AlwaysInterleave, Alias("feedback")]
    Task<FeedbackResult> RecordFeedbackAsync(string requestId, DateTimeOffset requestedAt, double score);

    /// <summary>The window's minutes that hold records, oldest first: the tuner's trend and change detection read them.</summary>
    [AlwaysInterleave, Alias("minutes")]
    Task<IReadOnlyList<ModelMinute>> GetMinutesAsync(TimeSpan window);

    [AlwaysInterleave, Alias("info")]
    Task<ModelStatsInfo> GetInfoAsync();

    /// <summary>
    /// Deletes the live state of a model removed from the catalog (its checkpoint and recent-record log) and deactivates;
    /// history keeps its minutes and hours. Refused for a model in the catalog. Only the catalog grain calls this.
    /// </summary>
    [Alias("purge")]
    Task PurgeAsync();
}
