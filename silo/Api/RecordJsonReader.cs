using System.Text.Json;
using Kyros.Perf.Models;

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
        "success", "error_kind", "cost", "quality_score", "request_id",
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
        foreach (var property in json.EnumerateObject())
            if (!KnownFields.Contains(property.Name))
                throw new ArgumentException($"{prefix}{property.Name} is not a field of a record.", prefix + property.Name);

        var success = Bool(json, prefix, "success") ?? true;
        return new ModelPerformanceRecord(
            Model: String(json, prefix, "model") ?? throw Missing(prefix, "model"),
            Instance: String(json, prefix, "instance"),
            Timestamp: Timestamp(json, prefix) ?? now,
            ExecutionTime: Number(json, prefix, "execution_time") ?? throw Missing(prefix, "execution_time"),
            TimeToFirstToken: Number(json, prefix, "time_to_first_token"),
            InputTokens: Integer(json, prefix, "input_tokens") ?? 0,
            OutputTokens: Integer(json, prefix, "output_tokens") ?? 0,
            Success: success,
            ErrorKind: String(json, prefix, "error_kind"),
            Cost: Number(json, prefix, "cost") ?? 0,
            QualityScore: Number(json, prefix, "quality_score"),
            RequestId: String(json, prefix, "request_id") ?? throw Missing(prefix, "request_id"));
    }

    private static JsonElement? Field(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? String(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        _ => throw WrongType(prefix, name, "a string"),
    };

    private static double? Number(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
        { ValueKind: JsonValueKind.Number } => throw new ArgumentException($"{prefix}{name} must be a finite number.", prefix + name),
        _ => throw WrongType(prefix, name, "a number of seconds or units"),
    };

    private static long? Integer(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt64(out var number) => number,
        _ => throw WrongType(prefix, name, "a whole number"),
    };

    private static bool? Bool(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(prefix, name, "true or false"),
    };

    private static DateTimeOffset? Timestamp(JsonElement json, string prefix) => Field(json, "timestamp") switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value when value.TryGetDateTimeOffset(out var time) => time.ToUniversalTime(),
        _ => throw WrongType(prefix, "timestamp", "an ISO 8601 date and time such as 2026-11-28T12:00:00Z"),
    };

    private static ArgumentException Missing(string prefix, string name) => new($"{prefix}{name} is required.", prefix + name);

    private static ArgumentException WrongType(string prefix, string name, string expected) =>
        new($"{prefix}{name} must be {expected}.", prefix + name);
}
