using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Kyros.Perf.Common;

namespace Kyros.Perf.Catalog;

/// <summary>
/// A model as JSON, the shape <c>GET /v1/models</c> answers: read from a request body or a file (a field a model does
/// not have is refused, naming it), and patched as RFC 7396 says (the fields given replace, objects merge, null unsets).
/// </summary>
public static class ModelJson
{
    private static readonly JsonSerializerOptions Strict = new(KyrosJson.Options) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    public static JsonObject ToObject(ModelDescriptor model) => JsonSerializer.SerializeToNode(model, KyrosJson.Options)!.AsObject();

    /// <summary>
    /// The model in <paramref name="json"/>; <see cref="ArgumentException"/> naming the field that is wrong. With
    /// <paramref name="id"/> (the model being changed), the JSON may leave its id out but not give another.
    /// </summary>
    public static ModelDescriptor Read(JsonElement json, string? id = null)
    {
        if (json.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a JSON object: a model as GET /v1/models shows one.", "body");
        ModelDescriptor model;
        try
        {
            model = json.Deserialize<ModelDescriptor>(Strict) ?? throw new ArgumentException("The body must be a model object.", "body");
        }
        catch (JsonException exception)
        {
            var field = (exception.Path ?? "$").TrimStart('$').TrimStart('.') is { Length: > 0 } path ? path : "body";
            var problem = exception.Message.Contains("could not be mapped", StringComparison.Ordinal)
                ? "is not a field of a model."
                : $"has the wrong type: {exception.Message.Split(" Path:")[0]}";
            throw new ArgumentException($"{field} {problem}", field);
        }
        if (id is null) return model;
        if (json.TryGetProperty("id", out _) && model.Id != id)
            throw new ArgumentException($"id '{model.Id}' differs from '{id}': a model's id cannot change (remove it and add the new one).", "id");
        model.Id = id;
        return model;
    }

    public static ModelDescriptor Read(JsonNode json, string? id = null) => Read(JsonSerializer.SerializeToElement(json), id);

    /// <summary>The model with <paramref name="patch"/> applied (RFC 7396); the model itself is not changed.</summary>
    public static ModelDescriptor Patch(ModelDescriptor model, JsonObject patch)
    {
        var merged = ToObject(model);
        Merge(merged, patch);
        return Read(merged, model.Id);
    }

    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch.ToList())
        {
            if (value is JsonObject inner && target[name] is JsonObject existing) Merge(existing, inner);
            else if (value is null) target.Remove(name);
            else target[name] = value.DeepClone();
        }
    }
}
