using System.Globalization;
using System.Text.Json;

namespace Kyros.Perf.Silo.Otlp;

/// <summary>
/// Reads an OTLP <c>ExportTraceServiceRequest</c> into its spans, from binary protobuf or OTLP/JSON, by the
/// specification's field numbers and names. A body that is not a well-formed request throws <see cref="FormatException"/>
/// (the whole export is refused); a span whose values are merely impossible is left to the mapping, which rejects it alone.
/// </summary>
public static class OtlpTraceReader
{
    public static List<OtlpSpan> ReadProtobuf(ReadOnlySpan<byte> body)
    {
        var spans = new List<OtlpSpan>();
        var request = new ProtoReader(body);
        while (request.Next(out var field, out var wire))
        {
            if (field != 1) { request.Skip(wire); continue; }
            ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "resource_spans");
            var resourceSpans = new ProtoReader(request.ReadBytes());
            while (resourceSpans.Next(out var f, out var w))
            {
                if (f != 2) { resourceSpans.Skip(w); continue; }
                ProtoReader.Expect(w, ProtoReader.LengthDelimited, "scope_spans");
                ReadScopeSpans(new ProtoReader(resourceSpans.ReadBytes()), spans);
            }
        }
        return spans;
    }

    private static void ReadScopeSpans(ProtoReader scopeSpans, List<OtlpSpan> spans)
    {
        string? scope = null;
        var first = spans.Count;
        while (scopeSpans.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1:
                    ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "scope");
                    var instrumentation = new ProtoReader(scopeSpans.ReadBytes());
                    while (instrumentation.Next(out var f, out var w))
                        if (f == 1 && w == ProtoReader.LengthDelimited) scope = instrumentation.ReadString();
                        else instrumentation.Skip(w);
                    break;
                case 2:
                    ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "span");
                    spans.Add(ReadSpan(new ProtoReader(scopeSpans.ReadBytes())));
                    break;
                default:
                    scopeSpans.Skip(wire);
                    break;
            }
        }
        // The scope may come after its spans on the wire.
        for (var i = first; i < spans.Count; i++) spans[i].Scope = scope;
    }

    private static OtlpSpan ReadSpan(ProtoReader reader)
    {
        var span = new OtlpSpan();
        while (reader.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1: ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "trace_id"); span.TraceId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case 2: ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "span_id"); span.SpanId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case 4: ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "parent_span_id"); span.ParentSpanId = Convert.ToHexStringLower(reader.ReadBytes()); break;
                case 5: ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "name"); span.Name = reader.ReadString(); break;
                case 7: ProtoReader.Expect(wire, ProtoReader.Fixed64, "start_time_unix_nano"); span.StartTimeUnixNano = reader.ReadFixed64(); break;
                case 8: ProtoReader.Expect(wire, ProtoReader.Fixed64, "end_time_unix_nano"); span.EndTimeUnixNano = reader.ReadFixed64(); break;
                case 9: ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "attributes"); ReadAttribute(new ProtoReader(reader.ReadBytes()), span); break;
                case 15:
                    ProtoReader.Expect(wire, ProtoReader.LengthDelimited, "status");
                    var status = new ProtoReader(reader.ReadBytes());
                    while (status.Next(out var f, out var w))
                        if (f == 2 && w == ProtoReader.LengthDelimited) span.StatusMessage = status.ReadString();
                        else if (f == 3 && w == ProtoReader.Varint) span.StatusCode = (int)status.ReadVarint();
                        else status.Skip(w);
                    break;
                default: reader.Skip(wire); break;
            }
        }
        return span;
    }

    /// <summary>A KeyValue: key (1) and AnyValue (2: string 1, bool 2, int 3, double 4; arrays, lists and bytes are not read).</summary>
    private static void ReadAttribute(ProtoReader keyValue, OtlpSpan span)
    {
        string? key = null;
        ReadOnlySpan<byte> value = default;
        while (keyValue.Next(out var field, out var wire))
            if (field == 1 && wire == ProtoReader.LengthDelimited) key = keyValue.ReadString();
            else if (field == 2 && wire == ProtoReader.LengthDelimited) value = keyValue.ReadBytes();
            else keyValue.Skip(wire);
        // Most attributes are not GenAI ones: their values are never decoded.
        if (key is null || !key.StartsWith("gen_ai.", StringComparison.Ordinal) && key is not (OtlpSpan.Attributes.ErrorType or OtlpSpan.Attributes.ServerAddress or OtlpSpan.Attributes.ServerPort))
            return;
        string? text = null;
        long? whole = null;
        double? number = null;
        var any = new ProtoReader(value);
        while (any.Next(out var field, out var wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited: text = any.ReadString(); break;
                case 3 when wire == ProtoReader.Varint: whole = (long)any.ReadVarint(); break;
                case 4 when wire == ProtoReader.Fixed64: number = BitConverter.UInt64BitsToDouble(any.ReadFixed64()); break;
                default: any.Skip(wire); break;
            }
        }
        span.Set(key, text, whole, number);
    }

    /// <summary>OTLP/JSON: lowerCamelCase names, ids as hex, 64-bit numbers as strings or numbers, enums as numbers.</summary>
    public static List<OtlpSpan> ReadJson(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("the body is not a JSON object");
        var spans = new List<OtlpSpan>();
        foreach (var resourceSpans in Array(root, "resourceSpans"))
        foreach (var scopeSpans in Array(resourceSpans, "scopeSpans"))
        {
            var scope = scopeSpans.TryGetProperty("scope", out var s) && s.ValueKind == JsonValueKind.Object && s.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String
                ? n.GetString()
                : null;
            foreach (var json in Array(scopeSpans, "spans"))
            {
                var span = new OtlpSpan
                {
                    Scope = scope,
                    TraceId = Text(json, "traceId")?.ToLowerInvariant() ?? "",
                    SpanId = Text(json, "spanId")?.ToLowerInvariant() ?? "",
                    ParentSpanId = Text(json, "parentSpanId")?.ToLowerInvariant() ?? "",
                    Name = Text(json, "name") ?? "",
                    StartTimeUnixNano = Unsigned(json, "startTimeUnixNano"),
                    EndTimeUnixNano = Unsigned(json, "endTimeUnixNano"),
                };
                if (json.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object)
                {
                    span.StatusCode = (int)Unsigned(status, "code");
                    span.StatusMessage = Text(status, "message");
                }
                foreach (var attribute in Array(json, "attributes"))
                {
                    if (Text(attribute, "key") is not { } key || !attribute.TryGetProperty("value", out var value) || value.ValueKind != JsonValueKind.Object) continue;
                    var text = value.TryGetProperty("stringValue", out var sv) && sv.ValueKind == JsonValueKind.String ? sv.GetString() : null;
                    long? whole = value.TryGetProperty("intValue", out var iv) ? Signed(iv, key) : null;
                    double? number = value.TryGetProperty("doubleValue", out var dv) && dv.ValueKind == JsonValueKind.Number ? dv.GetDouble() : null;
                    span.Set(key, text, whole, number);
                }
                if (span.TraceId.Length > 0 && !IsHex(span.TraceId) || span.SpanId.Length > 0 && !IsHex(span.SpanId))
                    throw new FormatException("traceId and spanId must be hex strings");
                spans.Add(span);
            }
        }
        return spans;
    }

    private static IEnumerable<JsonElement> Array(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null) return [];
        if (array.ValueKind != JsonValueKind.Array) throw new FormatException($"{name} must be an array");
        return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Object ? e : throw new FormatException($"{name} must hold objects"));
    }

    private static string? Text(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Null => null,
            _ => throw new FormatException($"{name} must be a string"),
        } : null;

    private static ulong Unsigned(JsonElement parent, string name)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return 0;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var n)) return n;
        if (value.ValueKind == JsonValueKind.String && ulong.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out n)) return n;
        throw new FormatException($"{name} must be a non-negative whole number");
    }

    private static long? Signed(JsonElement value, string key) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var n) => n,
        JsonValueKind.String when long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => n,
        _ => throw new FormatException($"attribute {key}: intValue must be a whole number"),
    };

    private static bool IsHex(string text) => text.All(char.IsAsciiHexDigit);
}
