using System.Text.Json;

namespace Kyros.Perf.Silo.Api;

/// <summary>Reads fields of untrusted JSON one by one; a wrong type throws an ArgumentException naming the field.</summary>
public static class JsonFields
{
    public static void RejectUnknown(JsonElement json, string prefix, IReadOnlySet<string> known, string what)
    {
        foreach (var property in json.EnumerateObject())
            if (!known.Contains(property.Name))
                throw new ArgumentException($"{prefix}{property.Name} is not a field of {what}.", prefix + property.Name);
    }

    public static JsonElement? Field(JsonElement json, string name) =>
        json.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public static string? String(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value => value.GetString(),
        _ => throw WrongType(prefix, name, "a string"),
    };

    public static double? Number(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetDouble(out var number) && double.IsFinite(number) => number,
        { ValueKind: JsonValueKind.Number } => throw new ArgumentException($"{prefix}{name} must be a finite number.", prefix + name),
        _ => throw WrongType(prefix, name, "a number of seconds or units"),
    };

    public static long? Integer(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } value when value.TryGetInt64(out var number) => number,
        _ => throw WrongType(prefix, name, "a whole number"),
    };

    public static bool? Bool(JsonElement json, string prefix, string name) => Field(json, name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => throw WrongType(prefix, name, "true or false"),
    };

    public static DateTimeOffset? Timestamp(JsonElement json, string prefix) => Field(json, "timestamp") switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } value when value.TryGetDateTimeOffset(out var time) => time.ToUniversalTime(),
        _ => throw WrongType(prefix, "timestamp", "an ISO 8601 date and time such as 2026-11-28T12:00:00Z"),
    };

    /// <summary>The error for a required field that is absent or null.</summary>
    public static ArgumentException Missing(string prefix, string name) => new($"{prefix}{name} is required.", prefix + name);

    public static ArgumentException WrongType(string prefix, string name, string expected) =>
        new($"{prefix}{name} must be {expected}.", prefix + name);
}
