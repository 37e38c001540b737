using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Silo.Otlp;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Telemetry;

/// <summary>
/// The silo's own OpenTelemetry, exported by the OpenTelemetry .NET SDK over OTLP/HTTP protobuf to a collector this
/// test runs on loopback: a generation is one trace under the caller's traceparent, and the meters arrive.
/// </summary>
public sealed class SiloTelemetryTests
{
    [Fact]
    public async Task A_generation_is_one_trace_under_the_callers_traceparent_and_the_meters_are_exported()
    {
        await using var collector = await OtlpCollector.StartAsync();
        var silo = await HttpSilo.StartAsync(null,
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={collector.BaseUrl}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--Kyros:Gateway:SimulationTimeScale=0.01");
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
            {
                Content = JsonContent.Create(new { model = "auto", messages = new[] { new { role = "user", content = "Say hello" } }, max_tokens = 20 }),
            };
            request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
            using var response = await silo.Http.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
            var model = answer.GetProperty("model").GetString()!;

            // A host that runs hot: its alert is counted by the alert meter.
            var now = DateTimeOffset.UtcNow;
            var samples = Enumerable.Range(0, 3).Select(i => new { timestamp = now.AddSeconds(i - 3), cpu_percent = 99.5, memory_percent = 40.0 }).ToArray();
            (await silo.Http.PostAsJsonAsync("/v1/resources/nodes/otel-host/samples", samples)).EnsureSuccessStatusCode();

            var spans = await Eventually.UntilAsync(() => Task.FromResult(collector.Spans.Where(s => s.TraceId == traceId).ToList()),
                found => found.Any(s => s.Scope == "Kyros.Perf.Recording") && found.Any(s => s.Name.StartsWith("chat ", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(20));

            // The server span continues the caller's span; every other span of the generation hangs below it.
            var server = Assert.Single(spans, s => s.ParentSpanId == callerSpan);
            Assert.Equal("Microsoft.AspNetCore", server.Scope);
            var byId = spans.ToDictionary(s => s.SpanId);
            Assert.All(spans.Where(s => s != server), s => Assert.True(byId.ContainsKey(s.ParentSpanId), $"{s.Name} ({s.Scope}) hangs outside the trace"));
            var generate = Assert.Single(spans, s => s.Scope == "Kyros.Perf.Gateway" && s.Name == "generate");
            Assert.Equal(server.SpanId, generate.ParentSpanId);
            var route = Assert.Single(spans, s => s.Scope == "Kyros.Perf.Routing" && s.Name == "route");
            Assert.Equal(generate.SpanId, route.ParentSpanId);
            // The provider attempt follows the GenAI conventions: operation, model, tokens.
            var attempt = Assert.Single(spans, s => s.Name == $"chat {model}");
            Assert.Equal(generate.SpanId, attempt.ParentSpanId);
            Assert.Equal("chat", attempt.Operation);
            Assert.Equal(model, attempt.RequestModel);
            Assert.Equal(answer.GetProperty("usage").GetProperty("completion_tokens").GetInt64(), attempt.OutputTokens);
            // The record's grain call is Orleans' own span, below the record span.
            var record = Assert.Single(spans, s => s.Scope == "Kyros.Perf.Recording");
            Assert.Contains(spans, s => s.Scope!.StartsWith("Microsoft.Orleans", StringComparison.Ordinal) && s.ParentSpanId == record.SpanId);
        }
        finally
        {
            // Stopping the silo flushes its meters.
            await silo.DisposeAsync();
        }

        var metrics = collector.MetricNames;
        Assert.Contains("kyros.gateway.generations", metrics);
        Assert.Contains("kyros.gateway.generation.duration", metrics);
        Assert.Contains("kyros.routing.decisions", metrics);
        Assert.Contains("kyros.routing.decision.duration", metrics);
        Assert.Contains("kyros.records", metrics);
        Assert.Contains("kyros.alerts.events", metrics);
        Assert.Contains(metrics, m => m.StartsWith("orleans-", StringComparison.Ordinal) || m.StartsWith("orleans.", StringComparison.Ordinal));
        Assert.Contains(metrics, m => m.StartsWith("dotnet.", StringComparison.Ordinal));
        Assert.Contains("http.server.request.duration", metrics);
    }

    /// <summary>An OTLP/HTTP receiver on loopback: traces read with the silo's own reader, metrics down to their names.</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<OtlpSpan> _spans = new();
        private readonly ConcurrentDictionary<string, bool> _metricNames = new();

        private OtlpCollector(WebApplication app, string baseUrl)
        {
            _app = app;
            BaseUrl = baseUrl;
        }

        public string BaseUrl { get; }
        public IReadOnlyCollection<OtlpSpan> Spans => _spans;
        public IReadOnlyCollection<string> MetricNames => [.. _metricNames.Keys];

        public static async Task<OtlpCollector> StartAsync()
        {
            var url = $"http://127.0.0.1:{FreePort.Next()}";
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.WebHost.UseUrls(url);
            var app = builder.Build();
            var collector = new OtlpCollector(app, url);
            app.MapPost("/v1/traces", async (HttpRequest request) =>
            {
                foreach (var span in OtlpTraceReader.ReadProtobuf(await Body(request))) collector._spans.Enqueue(span);
                return Results.Bytes([], "application/x-protobuf");
            });
            app.MapPost("/v1/metrics", async (HttpRequest request) =>
            {
                foreach (var name in ReadMetricNames(await Body(request))) collector._metricNames[name] = true;
                return Results.Bytes([], "application/x-protobuf");
            });
            await app.StartAsync();
            return collector;
        }

        private static async Task<byte[]> Body(HttpRequest request)
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            return buffer.ToArray();
        }

        /// <summary>ExportMetricsServiceRequest → resource_metrics (1) → scope_metrics (2) → metrics (2) → name (1).</summary>
        private static List<string> ReadMetricNames(byte[] body)
        {
            var names = new List<string>();
            foreach (var resource in Fields(body, 1))
            foreach (var scope in Fields(resource, 2))
            foreach (var metric in Fields(scope, 2))
                names.AddRange(Fields(metric, 1).Select(n => Encoding.UTF8.GetString(n)));
            return names;
        }

        private static List<byte[]> Fields(byte[] message, int wanted)
        {
            var found = new List<byte[]>();
            var reader = new ProtoReader(message);
            while (reader.Next(out var field, out var wire))
                if (field == wanted && wire == ProtoReader.LengthDelimited) found.Add(reader.ReadBytes().ToArray());
                else reader.Skip(wire);
            return found;
        }

        public async ValueTask DisposeAsync()
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
    }
}
