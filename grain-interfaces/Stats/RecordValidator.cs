using Kyros.Perf.Common;
namespace Kyros.Perf.Stats;

/// <summary>
/// The one set of rules for a <see cref="ModelPerformanceRecord"/>, shared by the SDK, the HTTP API and the grain.
/// Errors are <see cref="ArgumentException"/>s whose parameter name is the field as JSON spells it.
/// </summary>
public static class RecordValidator
{
    public const int MaxBatchSize = 10_000;
    public const int MaxIdLength = 256;
    public const int MaxErrorKindLength = 64;
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxAge = TimeWindow.Max;
    public const double MaxSeconds = 86_400;
    /// <summary>Bounds that keep sums finite and exact: no request costs a million or uses a billion tokens.</summary>
    public const double MaxCost = 1_000_000;
    public const long MaxTokens = 1_000_000_000;
    public const int MaxToolCalls = 10_000;

    public static void ValidateBatch(IReadOnlyList<ModelPerformanceRecord>? records, DateTimeOffset now)
    {
        if (records is null || records.Count == 0)
            throw new ArgumentException("records must hold at least one record.", "records");
        if (records.Count > MaxBatchSize)
            throw new ArgumentException($"records holds {records.Count} records; a batch holds at most {MaxBatchSize}.", "records");
        for (var i = 0; i < records.Count; i++)
            Validate(records[i], now, $"[{i}].");
    }

    public static void Validate(ModelPerformanceRecord? record, DateTimeOffset now, string prefix = "")
    {
        if (record is null) throw new ArgumentException("record is required.", prefix.Length == 0 ? "record" : prefix.TrimEnd('.'));
        RequireId(record.Model, prefix + "model");
        RequireId(record.RequestId, prefix + "request_id");
        if (record.Instance is not null) RequireId(record.Instance, prefix + "instance");

        if (record.Timestamp > now + MaxClockSkew)
            throw Error(prefix + "timestamp", $"is {record.Timestamp:O}, more than {MaxClockSkew.TotalMinutes:0} minutes ahead of the server clock ({now:O}).");
        if (record.Timestamp < now - MaxAge)
            throw Error(prefix + "timestamp", $"is {record.Timestamp:O}, older than the {TimeWindow.Format(MaxAge)} the live statistics keep.");

        RequireSeconds(record.ExecutionTime, prefix + "execution_time");
        if (record.TimeToFirstToken is { } ttft)
        {
            RequireSeconds(ttft, prefix + "time_to_first_token");
            if (ttft > record.ExecutionTime)
                throw Error(prefix + "time_to_first_token", $"({ttft}) is longer than execution_time ({record.ExecutionTime}).");
        }
        if (record.InputTokens is < 0 or > MaxTokens) throw Error(prefix + "input_tokens", $"must be within 0..{MaxTokens}; got {record.InputTokens}.");
        if (record.ToolCalls is < 0 or > MaxToolCalls) throw Error(prefix + "tool_calls", $"must be within 0..{MaxToolCalls}; got {record.ToolCalls}.");
        if (record.OutputTokens is < 0 or > MaxTokens) throw Error(prefix + "output_tokens", $"must be within 0..{MaxTokens}; got {record.OutputTokens}.");
        if (!double.IsFinite(record.Cost) || record.Cost < 0 || record.Cost > MaxCost)
            throw Error(prefix + "cost", $"must be a finite number within 0..{MaxCost}; got {record.Cost}.");
        if (!double.IsFinite(record.CostSaved) || record.CostSaved < 0 || record.CostSaved > MaxCost)
            throw Error(prefix + "cost_saved", $"must be a finite number within 0..{MaxCost}; got {record.CostSaved}.");
        if (record.CostSaved > 0 && !record.CacheHit) throw Error(prefix + "cost_saved", "is only carried by a cache hit.");
        if (record.QualityScore is { } quality && !(quality >= 0 && quality <= 1))
            throw Error(prefix + "quality_score", $"must be within 0..1; got {quality}.");

        if (record.IsFeedback && (record.QualityScore is null || !record.RequestId.EndsWith(ModelPerformanceRecord.FeedbackSuffix, StringComparison.Ordinal)))
            throw Error(prefix + "quality_score", "is required on feedback, whose request_id ends with #feedback.");

        if (record.ErrorKind is { } kind)
        {
            if (record.Success)
                throw Error(prefix + "error_kind", "must be null when success is true.");
            if (kind.Length == 0 || kind.Length > MaxErrorKindLength || kind.AsSpan().ContainsAnyExcept(ErrorKindChars))
                throw Error(prefix + "error_kind", $"must be 1-{MaxErrorKindLength} characters of a-z, 0-9, '_', '-' or '.'.");
        }
    }

    private static void RequireId(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value)) throw Error(field, "is required and must not be empty.");
        if (value.Length > MaxIdLength) throw Error(field, $"is longer than {MaxIdLength} characters.");
        foreach (var c in value)
            if (char.IsControl(c)) throw Error(field, "must not hold control characters.");
    }

    private static void RequireSeconds(double value, string field)
    {
        if (!double.IsFinite(value) || value < 0 || value > MaxSeconds)
            throw Error(field, $"must be a finite number of seconds from 0 to {MaxSeconds}; got {value}.");
    }

    private static readonly System.Buffers.SearchValues<char> ErrorKindChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_-.");

    private static ArgumentException Error(string field, string message) => new($"{field} {message}", field);
}
