using System.Text.Json;
using Kyros.Perf.Gateway;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>The simulated provider's arguments and structured answers fit the schema they were made for.</summary>
public sealed class SchemaExampleTests
{
    private static JsonElement Example(string schema) =>
        JsonDocument.Parse(SchemaExample.For(JsonDocument.Parse(schema).RootElement)!.ToJsonString()).RootElement;

    [Fact]
    public void Every_property_gets_a_value_of_its_type_within_its_bounds()
    {
        var value = Example("""
            {"type": "object", "properties": {
              "city": {"type": "string", "minLength": 12}, "unit": {"enum": ["kelvin", "celsius"]}, "days": {"type": "integer", "minimum": 3, "maximum": 7},
              "ratio": {"type": "number", "maximum": 0.5}, "exact": {"type": "boolean"}, "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
              "when": {"type": "string", "format": "date-time"}, "kind": {"const": "fixed"}, "maybe": {"type": ["null", "integer"]}}}
            """);
        Assert.True(value.GetProperty("city").GetString()!.Length >= 12);
        Assert.Equal("kelvin", value.GetProperty("unit").GetString());
        Assert.InRange(value.GetProperty("days").GetInt32(), 3, 7);
        Assert.True(value.GetProperty("ratio").GetDouble() <= 0.5);
        Assert.True(value.GetProperty("exact").GetBoolean());
        Assert.Equal(2, value.GetProperty("tags").GetArrayLength());
        Assert.True(DateTimeOffset.TryParse(value.GetProperty("when").GetString(), out _));
        Assert.Equal("fixed", value.GetProperty("kind").GetString());
        Assert.Equal(JsonValueKind.Number, value.GetProperty("maybe").ValueKind);
    }

    [Fact]
    public void Local_references_are_followed_and_a_schema_that_refers_to_itself_ends()
    {
        var value = Example("""
            {"type": "object", "properties": {"address": {"$ref": "#/$defs/address"}, "node": {"$ref": "#/$defs/node"}},
             "$defs": {"address": {"type": "object", "properties": {"zip": {"type": "string"}}},
                       "node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}}}
            """);
        Assert.Equal(JsonValueKind.String, value.GetProperty("address").GetProperty("zip").ValueKind);
        Assert.Equal(JsonValueKind.Object, value.GetProperty("node").GetProperty("next").ValueKind);
    }
}
