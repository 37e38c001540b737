using System.Buffers;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Silo.Otlp;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Options;

using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>POST /v1/traces</c>, OTLP/HTTP: an <c>ExportTraceServiceRequest</c> as binary protobuf or JSON, gzip or not. Each GenAI
/// model-call span becomes a record (<see cref="GenAiSpanMapper"/>), recorded with the batch path; other spans are ignored.
/// Spans that cannot be records are rejected one by one in <c>partial_success</c>; a body that is not a request is refused whole.
/// </summary>
public static class TracesEndpoint
{
    public const string Path = "/v1/traces";
    private const string Protobuf = "application/x-protobuf";
    private const string Json = "application/json";
    /// <summary>How many rejections <c>error_message</c> names; the count covers them all.</summary>
    private const int ReasonsNamed = 20;

    public static void MapTracesEndpoint(this IEndpointRouteBuilder app) => app.MapPost(Path, ExportAsync).RequireScope(Scopes.Write)
        .WithBody<byte[]>(Protobuf, Json).ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
        .WithSummary("OTLP/HTTP trace export: GenAI model-call spans become records");

    private static async Task<IResult> ExportAsync(HttpRequest request, IGrainFactory grains, GenAiSpanMapper mapper, TimeProvider time, IOptions<KyrosSiloOptions> silo)
    {
        var mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (mediaType is not (Protobuf or Json))
            return Problems.Field("Content-Type", $"OTLP/HTTP takes {Protobuf} or {Json}; got '{request.ContentType}'.", StatusCodes.Status415UnsupportedMediaType);
        if (request.ContentLength > PerformanceEndpoints.MaxBodyBytes) return TooLarge();
        var body = await ReadBodyAsync(request);
        if (body is null) return TooLarge();

        List<OtlpSpan> spans;
        try
        {
            if (mediaType == Protobuf) spans = OtlpTraceReader.ReadProtobuf(body);
            else
            {
                using var json = JsonDocument.Parse(body);
                spans = OtlpTraceReader.ReadJson(json.RootElement);
            }
        }
        catch (Exception exception) when (exception is FormatException or JsonException)
        {
            return Problems.Field("body", $"The body is not an OTLP ExportTraceServiceRequest ({(mediaType == Protobuf ? "protobuf" : "JSON")}): {exception.Message}.");
        }

        var now = time.GetUtcNow();
        var records = new List<ModelPerformanceRecord>();
        var rejected = 0;
        var reasons = new StringBuilder();
        foreach (var span in spans)
        {
            var (record, rejection) = mapper.Map(span, now);
            if (record is not null) records.Add(record);
            else if (rejection is not null && ++rejected <= ReasonsNamed)
                reasons.Append(reasons.Length == 0 ? "" : "; ").Append("span ").Append(span.TraceId).Append('/').Append(span.SpanId).Append(": ").Append(rejection);
        }
        if (rejected > ReasonsNamed) reasons.Append($"; and {rejected - ReasonsNamed} more");

        var total = RecordResult.None;
        foreach (var batch in records.Chunk(RecordValidator.MaxBatchSize))
            total = total.Add(await PerformanceEndpoints.AcknowledgedAsync(ModelBatches.RecordAsync(grains, batch), silo.Value));
        request.HttpContext.Response.Headers["Kyros-Recorded"] = $"{total.Recorded}";
        request.HttpContext.Response.Headers["Kyros-Duplicates"] = $"{total.Duplicates}";
        return mediaType == Protobuf
            ? Results.Bytes(ProtobufResponse(rejected, reasons.ToString()), Protobuf)
            : Results.Text(JsonResponse(rejected, reasons.ToString()), Json, Encoding.UTF8);
    }

    /// <summary>The body, inflated when gzip; null when it (or what it inflates to) is over the limit.</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim().ToLowerInvariant();
        Stream source = encoding switch
        {
            "" or "identity" => request.Body,
            "gzip" => new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true),
            _ => throw new ArgumentException($"Content-Encoding '{encoding}' is not supported: send gzip or none.", "Content-Encoding"),
        };
        await using (source)
        {
            using var buffer = new MemoryStream();
            var chunk = ArrayPool<byte>.Shared.Rent(81920);
            try
            {
                while (true)
                {
                    int read;
                    try
                    {
                        read = await source.ReadAsync(chunk, request.HttpContext.RequestAborted);
                    }
                    catch (InvalidDataException exception)
                    {
                        throw new ArgumentException($"The body does not inflate as gzip: {exception.Message}", "body");
                    }
                    if (read == 0) return buffer.ToArray();
                    if (buffer.Length + read > PerformanceEndpoints.MaxBodyBytes) return null;
                    buffer.Write(chunk, 0, read);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(chunk);
            }
        }
    }

    private static IResult TooLarge() => Problems.Field("body",
        $"The body is larger than {PerformanceEndpoints.MaxBodyBytes / (1024 * 1024)} MiB (inflated); export smaller batches.", StatusCodes.Status413PayloadTooLarge);

    /// <summary>ExportTraceServiceResponse: partial_success (1) { rejected_spans (1), error_message (2) }, empty when nothing was rejected.</summary>
    private static byte[] ProtobufResponse(int rejected, string message)
    {
        if (rejected == 0) return [];
        var text = Encoding.UTF8.GetBytes(message);
        // Protobuf's varints are the record codec's.
        var inner = new ArrayBufferWriter<byte>();
        CompactRecordCodec.WriteVarint(inner, 1 << 3 | ProtoReader.Varint);
        CompactRecordCodec.WriteVarint(inner, (ulong)rejected);
        CompactRecordCodec.WriteVarint(inner, 2 << 3 | ProtoReader.LengthDelimited);
        CompactRecordCodec.WriteVarint(inner, (ulong)text.Length);
        inner.Write(text);
        var outer = new ArrayBufferWriter<byte>(inner.WrittenCount + 6);
        CompactRecordCodec.WriteVarint(outer, 1 << 3 | ProtoReader.LengthDelimited);
        CompactRecordCodec.WriteVarint(outer, (ulong)inner.WrittenCount);
        outer.Write(inner.WrittenSpan);
        return outer.WrittenSpan.ToArray();
    }

    /// <summary>The same in OTLP/JSON: lowerCamelCase, the 64-bit count as a string (proto3's JSON mapping).</summary>
    private static string JsonResponse(int rejected, string message) => rejected == 0
        ? "{}"
        : JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["partialSuccess"] = new Dictionary<string, string> { ["rejectedSpans"] = $"{rejected}", ["errorMessage"] = message },
        });
}
