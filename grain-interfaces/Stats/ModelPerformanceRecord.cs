namespace Kyros.Perf.Stats;

/// <summary>
/// What happened on one request to one model. Times are in seconds, as on the HTTP surface.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelPerformanceRecord")]
public sealed record ModelPerformanceRecord(
    [property: Id(0)] string Model,
    [property: Id(1)] string? Instance,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] double ExecutionTime,
    [property: Id(4)] double? TimeToFirstToken,
    [property: Id(5)] long InputTokens,
    [property: Id(6)] long OutputTokens,
    [property: Id(7)] bool Success,
    [property: Id(8)] string? ErrorKind,
    [property: Id(9)] double Cost,
    [property: Id(10)] double? QualityScore,
    [property: Id(11)] string RequestId,
    /// <summary>
    /// A quality score given later for the request in <see cref="RequestId"/> (less its <c>#feedback</c> suffix), at that
    /// request's timestamp: it adds to quality only, not to counts, latency, tokens or cost.
    /// </summary>
    [property: Id(12), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    bool IsFeedback = false)
{
    public const string FeedbackSuffix = "#feedback";

    /// <summary>How many tools the model called in its answer.</summary>
    [Id(13), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public int ToolCalls { get; init; }

    /// <summary>Answered from the response cache: no model was called, so <see cref="Cost"/> is 0.</summary>
    [Id(14), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool CacheHit { get; init; }

    /// <summary>On a cache hit, what the call that filled the entry cost: what the hit saved.</summary>
    [Id(15), System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public double CostSaved { get; init; }
}

/// <summary>How many records a call stored, and how many it skipped as already seen request ids.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RecordResult")]
public sealed record RecordResult([property: Id(0)] int Recorded, [property: Id(1)] int Duplicates)
{
    public static readonly RecordResult None = new(0, 0);
    public RecordResult Add(RecordResult other) => new(Recorded + other.Recorded, Duplicates + other.Duplicates);
}
