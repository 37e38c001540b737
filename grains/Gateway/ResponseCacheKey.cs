using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Kyros.Perf.Gateway;

/// <summary>
/// The exact response cache's key: SHA-256 of a canonical serialisation of the request as read (every field that can
/// change the answer, in a fixed order), after the model it names, or for a routed request its strategy and candidates.
/// The JSON the caller sent as text (tool parameters, a response schema, tool call arguments) is rewritten with its
/// object members in ordinal order and no whitespace, so neither field order nor spacing changes the key.
/// </summary>
public static class ResponseCacheKey
{
    /// <summary>Bumped when the serialisation changes, so entries of another layout are never read.</summary>
    private const string Version = "kyros.cache.v1";

    /// <summary>
    /// Whether an answer to <paramref name="request"/> may be cached: one answer without log probabilities, asked
    /// deterministically (<c>temperature</c> 0 or a <c>seed</c>), or with the cache asked for by header.
    /// </summary>
    public static bool IsCacheable(GenerateRequest request, bool askedByHeader) =>
        request.Choices == 1 && !request.Logprobs && (askedByHeader || request.Temperature == 0 || request.Seed is not null);

    /// <summary>The key: 64 lowercase hex digits.</summary>
    public static string Compute(GenerateRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
            Write(w, request);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer.WrittenSpan, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>The canonical text the key hashes (for tests and for looking into a key).</summary>
    public static string Canonical(GenerateRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
            Write(w, request);
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter w, GenerateRequest r)
    {
        w.WriteStartObject();
        w.WriteString("v", Version);
        if (r.Model is { } model) w.WriteString("model", model);
        else
        {
            w.WriteString("strategy", r.Strategy.ToString());
            if (r.Candidates is { } candidates)
            {
                w.WriteStartArray("candidates");
                foreach (var c in candidates) w.WriteStringValue(c);
                w.WriteEndArray();
            }
        }
        w.WriteStartArray("messages");
        foreach (var turn in r.Conversation) Turn(w, turn);
        w.WriteEndArray();
        if (r.Tools is { Count: > 0 } tools)
        {
            w.WriteStartArray("tools");
            foreach (var t in tools)
            {
                w.WriteStartObject();
                w.WriteString("name", t.Name);
                Optional(w, "description", t.Description);
                w.WritePropertyName("parameters");
                Json(w, t.ParametersJson);
                if (t.Strict is { } strict) w.WriteBoolean("strict", strict);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (r.ToolChoice is { } choice)
        {
            w.WriteString("tool_choice", choice.Mode);
            Optional(w, "tool_choice_function", choice.Function);
        }
        if (r.ParallelToolCalls is { } parallel) w.WriteBoolean("parallel_tool_calls", parallel);
        if (r.ResponseFormat is { } format)
        {
            w.WriteStartObject("response_format");
            w.WriteString("type", format.Type);
            Optional(w, "name", format.Name);
            Optional(w, "description", format.Description);
            if (format.SchemaJson is { } schema)
            {
                w.WritePropertyName("schema");
                Json(w, schema);
            }
            if (format.Strict is { } strict) w.WriteBoolean("strict", strict);
            w.WriteEndObject();
        }
        w.WriteNumber("max_tokens", r.MaxTokens);
        w.WriteNumber("n", r.Choices);
        Number(w, "temperature", r.Temperature);
        Number(w, "top_p", r.TopP);
        if (r.TopK is { } topK) w.WriteNumber("top_k", topK);
        if (r.Seed is { } seed) w.WriteNumber("seed", seed);
        Number(w, "presence_penalty", r.PresencePenalty);
        Number(w, "frequency_penalty", r.FrequencyPenalty);
        if (r.Stop is { Count: > 0 } stop)
        {
            w.WriteStartArray("stop");
            foreach (var s in stop) w.WriteStringValue(s);
            w.WriteEndArray();
        }
        if (r.Logprobs) w.WriteBoolean("logprobs", true);
        if (r.TopLogprobs is { } top) w.WriteNumber("top_logprobs", top);
        Optional(w, "user", r.User);
        if (r.Metadata is { Count: > 0 } metadata)
        {
            w.WriteStartObject("metadata");
            foreach (var (k, v) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteString(k, v);
            w.WriteEndObject();
        }
        if (r.Features is { } features)
        {
            w.WritePropertyName("features");
            JsonSerializer.Serialize(w, features);
        }
        w.WriteEndObject();
    }

    private static void Turn(Utf8JsonWriter w, ChatTurn turn)
    {
        w.WriteStartObject();
        w.WriteString("role", turn.Role);
        w.WriteString("content", turn.Content);
        if (turn.Parts is { Count: > 0 } parts)
        {
            w.WriteStartArray("parts");
            foreach (var p in parts)
            {
                w.WriteStartObject();
                w.WriteString("type", p.Type);
                Optional(w, "text", p.Text);
                Optional(w, "url", p.Url);
                Optional(w, "media_type", p.MediaType);
                Optional(w, "data", p.Data);
                Optional(w, "detail", p.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        if (turn.ToolCalls is { Count: > 0 } calls)
        {
            w.WriteStartArray("tool_calls");
            foreach (var c in calls)
            {
                w.WriteStartObject();
                w.WriteString("id", c.Id);
                w.WriteString("name", c.Name);
                w.WritePropertyName("arguments");
                Json(w, c.ArgumentsJson);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        Optional(w, "tool_call_id", turn.ToolCallId);
        Optional(w, "name", turn.Name);
        if (turn.IsError) w.WriteBoolean("is_error", true);
        w.WriteEndObject();
    }

    private static void Optional(Utf8JsonWriter w, string name, string? value)
    {
        if (value is not null) w.WriteString(name, value);
    }

    private static void Number(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
    }

    /// <summary>JSON text canonically: objects' members in ordinal order, numbers as written, no whitespace; text that is not JSON as a string.</summary>
    private static void Json(Utf8JsonWriter w, string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException)
        {
            w.WriteStringValue(json);
            return;
        }
        using (document) Element(w, document.RootElement);
    }

    private static void Element(Utf8JsonWriter w, JsonElement e)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                w.WriteStartObject();
                foreach (var p in e.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    w.WritePropertyName(p.Name);
                    Element(w, p.Value);
                }
                w.WriteEndObject();
                break;
            case JsonValueKind.Array:
                w.WriteStartArray();
                foreach (var item in e.EnumerateArray()) Element(w, item);
                w.WriteEndArray();
                break;
            default:
                e.WriteTo(w);
                break;
        }
    }
}
