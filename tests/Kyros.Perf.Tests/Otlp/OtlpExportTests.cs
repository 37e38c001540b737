using System.ClientModel;
using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;

namespace Kyros.Perf.Tests.Otlp;

/// <summary>
/// A real exporter: an <see cref="IChatClient"/> with <c>UseOpenTelemetry()</c> calls a local OpenAI-compatible server, and
/// the OpenTelemetry .NET SDK's OTLP exporter (protobuf over HTTP) sends its spans to a silo's <c>/v1/traces</c>.
/// </summary>
public sealed class OtlpExportTests
{
    private const string Source = "kyros-otlp-test";

    [Fact]
    public async Task Exported_genai_spans_become_one_record_each_a_repeat_counts_once_and_unknown_models_are_reported()
    {
        await using var backend = await OpenAiTestServer.StartAsync();
        await using var silo = await HttpSilo.StartAsync(null,
            "--Kyros:Otlp:ModelAliases:gpt-4o-2024-08-06=gpt-4", "--Kyros:Otlp:ModelAliases:broken-deployment=claude");
        var exchanges = new List<(byte[] Body, HttpStatusCode Status, byte[] Answer, string? Recorded)>();
        var exported = new List<Activity>();
        using (var tracing = Sdk.CreateTracerProviderBuilder()
                   .AddSource(Source)
                   .AddInMemoryExporter(exported)
                   .AddOtlpExporter(o => Configure(o, silo, exchanges))
                   .Build())
        {
            foreach (var model in new[] { "gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "broken-deployment", "mystery-model" })
            {
                var chat = Client(backend, model);
                try
                {
                    await chat.GetResponseAsync("Tell me about latency");
                }
                catch (ClientResultException)
                {
                    // broken-deployment answers 500: its span is an error span.
                }
            }
            tracing.ForceFlush();
        }

        // Every span reached the silo in protobuf; the one for a model outside the catalog is reported in partial_success.
        Assert.Equal(4, exported.Count);
        Assert.True(exchanges.Count > 0, "no exchange recorded");
        Assert.All(exchanges, e => Assert.Equal(HttpStatusCode.OK, e.Status));
        var rejections = exchanges.Select(e => PartialSuccess(e.Answer)).Where(p => p.Rejected > 0).ToList();
        var rejection = Assert.Single(rejections);
        Assert.Equal(1, rejection.Rejected);
        Assert.Contains("gen_ai.request.model 'mystery-model' is not in the catalog", rejection.Message);
        Assert.Equal(3, exchanges.Sum(e => int.Parse(e.Recorded!)));

        // One record per span: the model through the alias table, the span's duration, its tokens, success, instance, cost.
        var records = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4/records");
        foreach (var span in exported.Where(a => (string?)a.GetTagItem("gen_ai.request.model") == "gpt-4o-2024-08-06"))
        {
            var record = records.GetProperty("records").EnumerateArray().Single(r => r.GetProperty("request_id").GetString() == $"otel-{span.TraceId.ToHexString()}-{span.SpanId.ToHexString()}");
            Assert.Equal(span.Duration.TotalSeconds, record.GetProperty("execution_time").GetDouble(), 6);
            Assert.Equal(11, record.GetProperty("input_tokens").GetInt64());
            Assert.Equal(5, record.GetProperty("output_tokens").GetInt64());
            Assert.True(record.GetProperty("success").GetBoolean());
            Assert.Equal(new Uri(backend.BaseUrl).Authority, record.GetProperty("instance").GetString());
            Assert.Equal((11 * 0.03 + 5 * 0.06) / 1000, record.GetProperty("cost").GetDouble(), 12);
        }
        var failed = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude/records");
        var error = Assert.Single(failed.GetProperty("records").EnumerateArray());
        Assert.False(error.GetProperty("success").GetBoolean());
        var errorType = (string)exported.Single(a => (string?)a.GetTagItem("gen_ai.request.model") == "broken-deployment").GetTagItem("error.type")!;
        Assert.Equal(Kyros.Perf.Silo.Otlp.GenAiSpanMapper.ErrorKindOf(errorType), error.GetProperty("error_kind").GetString());
        Assert.Equal("system.clientmodel.clientresultexception", error.GetProperty("error_kind").GetString());

        // The exporter sends the same spans again (a retry): nothing counts twice.
        using (var again = new OtlpTraceExporter(Options(silo, exchanges)))
            Assert.Equal(ExportResult.Success, again.Export(new Batch<Activity>([.. exported], exported.Count)));
        Assert.Equal("0", exchanges[^1].Recorded);
        Assert.Equal(2, (await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4?window=1h")).GetProperty("count").GetInt64());

        // The same body gzip-compressed is read alike (and counts once); broken bodies are refused whole, recording nothing.
        var body = exchanges.First(e => e.Recorded == "2" || e.Recorded == "1").Body;
        using (var gzipped = await Post(silo, Gzip(body), "application/x-protobuf", gzip: true))
            Assert.Equal((HttpStatusCode.OK, "0"), (gzipped.StatusCode, gzipped.Headers.GetValues("Kyros-Recorded").Single()));
        await AssertRefused(silo, body[..(body.Length - 3)], "application/x-protobuf", HttpStatusCode.BadRequest, "body");
        await AssertRefused(silo, [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "application/x-protobuf", HttpStatusCode.BadRequest, "body");
        await AssertRefused(silo, Encoding.UTF8.GetBytes("{\"resourceSpans\": 3}"), "application/json", HttpStatusCode.BadRequest, "body");
        await AssertRefused(silo, Encoding.UTF8.GetBytes("{not json"), "application/json", HttpStatusCode.BadRequest, "body");
        await AssertRefused(silo, body, "text/plain", HttpStatusCode.UnsupportedMediaType, "Content-Type");
        await AssertRefused(silo, body, "application/x-protobuf", HttpStatusCode.BadRequest, "body", gzip: true);
        await AssertRefused(silo, Gzip(new byte[17 * 1024 * 1024]), "application/x-protobuf", HttpStatusCode.RequestEntityTooLarge, "body", gzip: true);
        Assert.Equal(2, (await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4?window=1h")).GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task Otlp_json_is_read_and_impossible_spans_are_rejected_one_by_one_naming_the_attribute()
    {
        var otlpPort = FreePort.Next();
        await using var silo = await HttpSilo.StartAsync(null, "--Kyros:Otlp:ModelAliases:gpt-4o=gpt-4", $"--Kyros:Otlp:HttpUrl=http://127.0.0.1:{otlpPort}");
        var start = DateTimeOffset.UtcNow.AddSeconds(-5);
        var startNs = (start - DateTimeOffset.UnixEpoch).Ticks * 100;
        object Span(string spanId, long endNs, long inputTokens, string model = "gpt-4o", string operation = "chat") => new
        {
            traceId = "5B8EFFF798038103D269B633813FC60C", spanId, name = $"{operation} {model}", kind = 3,
            startTimeUnixNano = $"{startNs}", endTimeUnixNano = endNs,
            attributes = new object[]
            {
                new { key = "gen_ai.operation.name", value = new { stringValue = operation } },
                new { key = "gen_ai.request.model", value = new { stringValue = model } },
                new { key = "gen_ai.usage.input_tokens", value = new { intValue = $"{inputTokens}" } },
                new { key = "gen_ai.usage.output_tokens", value = new { intValue = 20 } },
                new { key = "server.address", value = new { stringValue = "vllm.internal" } },
            },
            status = new { code = 0 },
        };
        var request = new
        {
            resourceSpans = new[]
            {
                new
                {
                    resource = new { attributes = new[] { new { key = "service.name", value = new { stringValue = "my-app" } } } },
                    scopeSpans = new[]
                    {
                        new
                        {
                            scope = new { name = "Experimental.Microsoft.Extensions.AI" },
                            spans = new[]
                            {
                                Span("eee19b7ec3c1b174", startNs + 2_000_000_000, 100),
                                Span("eee19b7ec3c1b175", startNs - 1, 100),
                                Span("eee19b7ec3c1b176", startNs + 1_000_000_000, -3),
                                Span("eee19b7ec3c1b177", startNs + 1_000_000_000, 100, operation: "execute_tool"),
                            },
                        },
                    },
                },
            },
        };
        using var response = await Post(silo, JsonSerializer.SerializeToUtf8Bytes(request), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("1", response.Headers.GetValues("Kyros-Recorded").Single());
        var partial = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("partialSuccess");
        Assert.Equal("2", partial.GetProperty("rejectedSpans").GetString());
        Assert.Contains("eee19b7ec3c1b175: end_time_unix_nano is before start_time_unix_nano", partial.GetProperty("errorMessage").GetString());
        Assert.Contains("eee19b7ec3c1b176: gen_ai.usage.input_tokens is negative (-3)", partial.GetProperty("errorMessage").GetString());

        var records = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/gpt-4/records");
        var record = Assert.Single(records.GetProperty("records").EnumerateArray());
        Assert.Equal("otel-5b8efff798038103d269b633813fc60c-eee19b7ec3c1b174", record.GetProperty("request_id").GetString());
        Assert.Equal(2.0, record.GetProperty("execution_time").GetDouble(), 9);
        Assert.Equal("vllm.internal", record.GetProperty("instance").GetString());

        // The same export on OTLP's own port counts once; that port serves /v1/traces alone.
        using var otlp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{otlpPort}") };
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(request));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var again = await otlp.PostAsync("/v1/traces", content);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(("0", "1"), (again.Headers.GetValues("Kyros-Recorded").Single(), again.Headers.GetValues("Kyros-Duplicates").Single()));
        using var notOtlp = await otlp.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.NotFound, notOtlp.StatusCode);
    }

    private static IChatClient Client(OpenAiTestServer backend, string model) =>
        new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(backend.BaseUrl) })
            .GetChatClient(model).AsIChatClient().AsBuilder().UseOpenTelemetry(sourceName: Source).Build();

    private static void Configure(OtlpExporterOptions o, HttpSilo silo, List<(byte[], HttpStatusCode, byte[], string?)> exchanges)
    {
        var options = Options(silo, exchanges);
        o.Endpoint = options.Endpoint;
        o.Protocol = options.Protocol;
        o.ExportProcessorType = ExportProcessorType.Simple;
        o.HttpClientFactory = options.HttpClientFactory;
    }

    private static OtlpExporterOptions Options(HttpSilo silo, List<(byte[], HttpStatusCode, byte[], string?)> exchanges) => new()
    {
        Endpoint = new Uri(silo.Http.BaseAddress!, "/v1/traces"),
        Protocol = OtlpExportProtocol.HttpProtobuf,
        HttpClientFactory = () => new HttpClient(new Recorder(exchanges) { InnerHandler = new SocketsHttpHandler() }),
    };

    /// <summary>Keeps each body the exporter sends and what the silo answered (the exporter sends synchronously).</summary>
    private sealed class Recorder(List<(byte[], HttpStatusCode, byte[], string?)> exchanges) : DelegatingHandler
    {
        protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var copy = new MemoryStream();
            request.Content!.CopyTo(copy, null, cancellationToken);
            var body = copy.ToArray();
            var sent = new ByteArrayContent(body);
            foreach (var header in request.Content.Headers) sent.Headers.TryAddWithoutValidation(header.Key, header.Value);
            request.Content = sent;
            var response = base.Send(request, cancellationToken);
            using var answerCopy = new MemoryStream();
            response.Content.CopyTo(answerCopy, null, cancellationToken);
            var answer = answerCopy.ToArray();
            lock (exchanges)
                exchanges.Add((body, response.StatusCode, answer, response.Headers.TryGetValues("Kyros-Recorded", out var r) ? r.Single() : null));
            response.Content = new ByteArrayContent(answer);
            return response;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.Run(() => Send(request, cancellationToken), cancellationToken);
    }

    /// <summary>ExportTraceServiceResponse's partial_success, read by its field numbers.</summary>
    private static (long Rejected, string Message) PartialSuccess(byte[] answer)
    {
        if (answer.Length == 0) return (0, "");
        var reader = new Kyros.Perf.Silo.Otlp.ProtoReader(answer);
        Assert.True(reader.Next(out var field, out _));
        Assert.Equal(1, field);
        var inner = new Kyros.Perf.Silo.Otlp.ProtoReader(reader.ReadBytes());
        long rejected = 0;
        var message = "";
        while (inner.Next(out var f, out var w))
            if (f == 1) rejected = (long)inner.ReadVarint();
            else if (f == 2) message = inner.ReadString();
            else inner.Skip(w);
        return (rejected, message);
    }

    private static async Task<HttpResponseMessage> Post(HttpSilo silo, byte[] body, string contentType, bool gzip = false)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        if (gzip) content.Headers.ContentEncoding.Add("gzip");
        return await silo.Http.PostAsync("/v1/traces", content);
    }

    private static async Task AssertRefused(HttpSilo silo, byte[] body, string contentType, HttpStatusCode status, string field, bool gzip = false)
    {
        using var response = await Post(silo, body, contentType, gzip);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(field, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    private static byte[] Gzip(byte[] body)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest)) gzip.Write(body);
        return buffer.ToArray();
    }
}
