using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kyros.Perf.Gateway;

/// <summary>
/// A value that fits a JSON schema, for the simulated provider's tool calls and structured answers: every property
/// filled (the first of an enum, a const, a default, or a value of its type), within its bounds, to a bounded depth.
/// </summary>
public static class SchemaExample
{
    private const int MaxDepth = 8;

    public static JsonNode? For(JsonElement schema) => Value(schema, schema, 0);

    private static JsonNode? Value(JsonElement schema, JsonElement root, int depth)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > MaxDepth) return null;
        if (schema.TryGetProperty("$ref", out var reference) && Resolve(root, reference.GetString()) is { } target) return Value(target, root, depth + 1);
        if (schema.TryGetProperty("const", out var constant)) return JsonNode.Parse(constant.GetRawText());
        if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
            return JsonNode.Parse(options[0].GetRawText());
        if (schema.TryGetProperty("default", out var fallback)) return JsonNode.Parse(fallback.GetRawText());
        foreach (var alternatives in new[] { "anyOf", "oneOf", "allOf" })
            if (schema.TryGetProperty(alternatives, out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0)
                return Value(list[0], root, depth + 1);
        var type = schema.TryGetProperty("type", out var t)
            ? t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString()).FirstOrDefault(x => x != "null") : t.GetString()
            : schema.TryGetProperty("properties", out _) ? "object" : null;
        switch (type)
        {
            case "object":
                var result = new JsonObject();
                if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
                    foreach (var property in properties.EnumerateObject()) result[property.Name] = Value(property.Value, root, depth + 1);
                return result;
            case "array":
                var items = new JsonArray();
                var count = schema.TryGetProperty("minItems", out var min) && min.TryGetInt32(out var m) ? Math.Min(m, 16) : 1;
                if (schema.TryGetProperty("items", out var item))
                    for (var i = 0; i < count; i++) items.Add(Value(item, root, depth + 1));
                return items;
            case "integer":
                return (JsonNode)Bounded(schema, 1);
            case "number":
                return (JsonNode)Bounded(schema, 1.5);
            case "boolean":
                return true;
            case "null":
                return null;
            default:
                var length = schema.TryGetProperty("minLength", out var minLength) && minLength.TryGetInt32(out var n) ? n : 0;
                var text = schema.TryGetProperty("format", out var format) ? format.GetString() switch
                {
                    "date-time" => "2026-01-01T00:00:00Z",
                    "date" => "2026-01-01",
                    "email" => "simulated@example.com",
                    "uri" => "https://example.com/simulated",
                    "uuid" => "00000000-0000-4000-8000-000000000000",
                    _ => "simulated",
                } : "simulated";
                return text.PadRight(length, 'x');
        }
    }

    private static JsonNode Bounded(JsonElement schema, double preferred)
    {
        var value = preferred;
        if (schema.TryGetProperty("minimum", out var min) && min.TryGetDouble(out var lo)) value = Math.Max(value, lo);
        if (schema.TryGetProperty("maximum", out var max) && max.TryGetDouble(out var hi)) value = Math.Min(value, hi);
        var integer = schema.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "integer";
        return integer ? JsonValue.Create((long)Math.Ceiling(value)) : JsonValue.Create(value);
    }

    /// <summary>A local reference (<c>#/$defs/x</c>, <c>#/definitions/x</c>); others are not followed.</summary>
    private static JsonElement? Resolve(JsonElement root, string? reference)
    {
        if (reference is null || !reference.StartsWith("#/", StringComparison.Ordinal)) return null;
        var at = root;
        foreach (var segment in reference[2..].Split('/'))
            if (at.ValueKind != JsonValueKind.Object || !at.TryGetProperty(segment.Replace("~1", "/").Replace("~0", "~"), out at)) return null;
        return at;
    }
}
