using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// OTLP ingestion into one embedded silo: protobuf bodies of 512 GenAI spans to <c>/v1/traces</c>, beside the same
/// records posted as JSON batches of 512 to <c>/v1/performance/records</c>, and bodies of 512 spans that are not model
/// calls (read, nothing recorded). Every span has ids of its own, so none is a duplicate.
/// </summary>
public static class OtlpLoad
{
    private const int SpansPerBody = 512;
    private static readonly string[] Models = ["gpt-4", "gpt-3.5-turbo", "claude", "gemini-pro", "local-llama"];
    private static long s_sequence;
    /// <summary>Eight bytes that mark where each span's unique id goes (the first half of its trace id; hex digits in a record's id).</summary>
    private const string Sentinel = "KYROSIDS";

    /// <summary>A body made once, with the places of its ids: each copy gets ids no other copy has.</summary>
    private sealed class Template(byte[] body, byte[] sentinel, bool hex)
    {
        private readonly int[] _offsets = Offsets(body, sentinel);
        private long _copies;

        public byte[] Next()
        {
            var copy = (byte[])body.Clone();
            var stamp = (ulong)Interlocked.Increment(ref _copies) << 20;
            for (var i = 0; i < _offsets.Length; i++)
            {
                var id = stamp + (ulong)i;
                if (hex) Encoding.ASCII.GetBytes(id.ToString("x16", CultureInfo.InvariantCulture), copy.AsSpan(_offsets[i], 16));
                else System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(copy.AsSpan(_offsets[i], 8), id);
            }
            return copy;
        }

        private static int[] Offsets(byte[] body, byte[] sentinel)
        {
            var offsets = new List<int>();
            for (var at = body.AsSpan().IndexOf(sentinel); at >= 0;)
            {
                offsets.Add(at);
                var next = body.AsSpan(at + sentinel.Length).IndexOf(sentinel);
                at = next < 0 ? -1 : at + sentinel.Length + next;
            }
            return [.. offsets];
        }
    }

    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, double seconds)
    {
        var work = Directory.CreateTempSubdirectory("kyros-otlp-").FullName;
        await using var silo = await BenchSilo.StartAsync(siloDll, work, ["--Kyros:Resources:SampleLocalHost=false"]);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(silo.HttpUrl), Timeout = TimeSpan.FromSeconds(60) };
        var rows = new List<string>();
        // Bodies are made once; each POST stamps new ids into a copy, so the client's work stays small beside the silo's.
        var records = new Template(Records(SpansPerBody), Encoding.ASCII.GetBytes(Sentinel + Sentinel), hex: true);
        var genAi = new Template(Spans(SpansPerBody, genAi: true), Encoding.ASCII.GetBytes(Sentinel), hex: false);
        var other = new Template(Spans(SpansPerBody, genAi: false), Encoding.ASCII.GetBytes(Sentinel), hex: false);
        foreach (var concurrency in new[] { 4, 16 })
        {
            var json = await Load.RunAsync("otlp", "records as JSON, 512 per POST /v1/performance/records", concurrency, SpansPerBody, seconds,
                _ => Post(http, "/v1/performance/records", records.Next(), "application/json"));
            var spans = await Load.RunAsync("otlp", "GenAI spans as OTLP protobuf, 512 per POST /v1/traces", concurrency, SpansPerBody, seconds,
                _ => Post(http, "/v1/traces", genAi.Next(), "application/x-protobuf"));
            var plain = await Load.RunAsync("otlp", "other spans as OTLP protobuf (read, not recorded), 512 per POST", concurrency, SpansPerBody, seconds,
                _ => Post(http, "/v1/traces", other.Next(), "application/x-protobuf"));
            foreach (var r in new[] { json, spans, plain })
                rows.Add(string.Create(CultureInfo.InvariantCulture,
                    $"| {r.Operation} | {concurrency} | {r.RecordsPerSecond:N0} | {r.P50Micros / 1000:0.0} | {r.P99Micros / 1000:0.0} | {r.RecordsPerSecond / json.RecordsPerSecond:0.00} |"));
        }
        return rows;
    }

    private static async Task Post(HttpClient http, string path, byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await http.PostAsync(path, content);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static byte[] Records(int count)
    {
        var now = DateTimeOffset.UtcNow;
        var records = Enumerable.Range(0, count).Select(i =>
        {
            var n = Interlocked.Increment(ref s_sequence);
            return new Dictionary<string, object>
            {
                ["model"] = Models[n % Models.Length], ["timestamp"] = now, ["execution_time"] = 0.5 + n % 100 / 100.0, ["input_tokens"] = 100,
                ["output_tokens"] = 200, ["success"] = true, ["cost"] = 0.001, ["instance"] = "api.example.com:443", ["request_id"] = $"otel-{Sentinel}{Sentinel}{n:x16}-{n:x16}",
            };
        });
        return JsonSerializer.SerializeToUtf8Bytes(records);
    }

    /// <summary>An ExportTraceServiceRequest of one resource and one scope, written by OTLP's field numbers.</summary>
    private static byte[] Spans(int count, bool genAi)
    {
        var startNs = (ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        var scope = new Proto();
        scope.Message(1, s => s.String(1, "Experimental.Microsoft.Extensions.AI"));
        for (var i = 0; i < count; i++)
        {
            var n = (ulong)Interlocked.Increment(ref s_sequence);
            var model = Models[n % (ulong)Models.Length];
            scope.Message(2, span =>
            {
                span.Bytes(1, [.. Encoding.ASCII.GetBytes(Sentinel), .. BitConverter.GetBytes(n)]);
                span.Bytes(2, BitConverter.GetBytes(n * 31));
                span.String(5, genAi ? $"chat {model}" : "GET /api/items");
                span.Varint(6, 3);
                span.Fixed64(7, startNs);
                span.Fixed64(8, startNs + 500_000_000 + n % 100 * 10_000_000);
                if (genAi)
                {
                    span.Attribute("gen_ai.operation.name", whole: null, text: "chat");
                    span.Attribute("gen_ai.provider.name", whole: null, text: "openai");
                    span.Attribute("gen_ai.request.model", whole: null, text: model);
                    span.Attribute("gen_ai.response.model", whole: null, text: model);
                    span.Attribute("gen_ai.usage.input_tokens", whole: 100, text: null);
                    span.Attribute("gen_ai.usage.output_tokens", whole: 200, text: null);
                    span.Attribute("server.address", whole: null, text: "api.example.com");
                    span.Attribute("server.port", whole: 443, text: null);
                }
                else
                {
                    span.Attribute("http.request.method", whole: null, text: "GET");
                    span.Attribute("url.path", whole: null, text: "/api/items");
                    span.Attribute("http.response.status_code", whole: 200, text: null);
                    span.Attribute("server.address", whole: null, text: "api.example.com");
                }
                span.Message(15, status => status.Varint(3, 1));
            });
        }
        var resource = new Proto();
        resource.Message(1, r => r.Message(1, kv => { kv.String(1, "service.name"); kv.Message(2, v => v.String(1, "bench-app")); }));
        resource.Message(2, s => s.Raw(scope));
        var request = new Proto();
        request.Message(1, r => r.Raw(resource));
        return request.ToArray();
    }

    /// <summary>Protocol buffers' wire format, as much as an OTLP trace export needs.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public byte[] ToArray() => _bytes.ToArray();

        public void Raw(Proto other) => other._bytes.WriteTo(_bytes);

        public void Varint(int field, ulong value)
        {
            Tag(field, 0);
            WriteVarint(value);
        }

        public void Fixed64(int field, ulong value)
        {
            Tag(field, 1);
            Span<byte> buffer = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(buffer, value);
            _bytes.Write(buffer);
        }

        public void Bytes(int field, ReadOnlySpan<byte> value)
        {
            Tag(field, 2);
            WriteVarint((ulong)value.Length);
            _bytes.Write(value);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Message(int field, Action<Proto> write)
        {
            var inner = new Proto();
            write(inner);
            Bytes(field, inner.ToArray());
        }

        /// <summary>A span attribute (field 9): a KeyValue whose AnyValue is a string (1) or an int (3).</summary>
        public void Attribute(string key, long? whole, string? text) => Message(9, kv =>
        {
            kv.String(1, key);
            kv.Message(2, v =>
            {
                if (text is not null) v.String(1, text);
                else v.Varint(3, (ulong)whole!.Value);
            });
        });

        private void Tag(int field, int wireType) => WriteVarint((ulong)(field << 3 | wireType));

        private void WriteVarint(ulong value)
        {
            for (; value >= 0x80; value >>= 7) _bytes.WriteByte((byte)(value | 0x80));
            _bytes.WriteByte((byte)value);
        }
    }
}
