using System.Text.Json;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// Reads records from untrusted JSON field by field, so a missing, mistyped or unknown field is reported by
/// its JSON name (with the array index for a batch). Range rules are <see cref="RecordValidator"/>'s.
/// </summary>
public static class RecordJsonReader
{
    private static readonly HashSet<string> KnownFields =
    [
        "model", "instance", "timestamp", "execution_time", "time_to_first_token", "input_tokens", "output_tokens",
        "success", "error_kind", "cost", "quality_score", "request_id", "tool_calls",
    ];

    /// <summary>One record (an object) or a batch (an array); the batch's fields are prefixed with "[i].".</summary>
    public static (IReadOnlyList<ModelPerformanceRecord> Records, bool IsBatch) ReadBody(JsonElement root, DateTimeOffset now)
    {
        switch (root.ValueKind)
        {
            case JsonValueKind.Object:
                return ([Read(root, "", now)], false);
            case JsonValueKind.Array:
                var length = root.GetArrayLength();
                if (length == 0) throw new ArgumentException("records must hold at least one record.", "records");
                if (length > RecordValidator.MaxBatchSize)
                    throw new ArgumentException($"records holds {length} records; a batch holds at most {RecordValidator.MaxBatchSize}.", "records");
                var records = new ModelPerformanceRecord[length];
                var i = 0;
                foreach (var element in root.EnumerateArray())
                {
                    records[i] = element.ValueKind == JsonValueKind.Object
                        ? Read(element, $"[{i}].", now)
                        : throw new ArgumentException($"[{i}] must be a record object.", $"[{i}]");
                    i++;
                }
                return (records, true);
            default:
                throw new ArgumentException("The body must be a record object or an array of records.", "body");
        }
    }

    public static ModelPerformanceRecord Read(JsonElement json, string prefix, DateTimeOffset now)
    {
        JsonFields.RejectUnknown(json, prefix, KnownFields, "a record");

        var success = JsonFields.Bool(json, prefix, "success") ?? true;
        return new ModelPerformanceRecord(
            Model: JsonFields.String(json, prefix, "model") ?? throw JsonFields.Missing(prefix, "model"),
            Instance: JsonFields.String(json, prefix, "instance"),
            Timestamp: JsonFields.Timestamp(json, prefix) ?? now,
            ExecutionTime: JsonFields.Number(json, prefix, "execution_time") ?? throw JsonFields.Missing(prefix, "execution_time"),
            TimeToFirstToken: JsonFields.Number(json, prefix, "time_to_first_token"),
            InputTokens: JsonFields.Integer(json, prefix, "input_tokens") ?? 0,
            OutputTokens: JsonFields.Integer(json, prefix, "output_tokens") ?? 0,
            Success: success,
            ErrorKind: JsonFields.String(json, prefix, "error_kind"),
            Cost: JsonFields.Number(json, prefix, "cost") ?? 0,
            QualityScore: JsonFields.Number(json, prefix, "quality_score"),
            RequestId: JsonFields.String(json, prefix, "request_id") ?? throw JsonFields.Missing(prefix, "request_id"))
        {
            ToolCalls = JsonFields.Integer(json, prefix, "tool_calls") is { } calls
                ? calls is >= 0 and <= RecordValidator.MaxToolCalls ? (int)calls : throw new ArgumentException($"{prefix}tool_calls must be within 0..{RecordValidator.MaxToolCalls}; got {calls}.", prefix + "tool_calls")
                : 0,
        };
    }
}
