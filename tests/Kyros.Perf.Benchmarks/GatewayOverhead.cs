using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// What the gateway adds: the same chat completion sent straight to a backend that answers at once, and through a
/// real silo's <c>/v1/chat/completions</c> to that backend (routing, the OpenAI client, recording included).
/// Load generator, silo and backend share this machine.
/// </summary>
public static class GatewayOverhead
{
    private const string Request = """{"model": "MODEL", "messages": [{"role": "user", "content": "Say ok."}], "max_tokens": 16}""";

    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, double seconds)
    {
        await using var backend = await InstantBackend.StartAsync();
        // Two silos, alike but for where an answered generation's record goes: durable before the answer (the default), or queued.
        var (silo, http) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: true);
        await using var _ = silo;
        var (queuedSilo, queuedHttp) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: false);
        await using var __ = queuedSilo;

        var (proxy, proxyPort) = await NoOpProxy.StartAsync(backend.BaseUrl.Replace("/v1", ""));
        await using var ___ = proxy;

        var streamed = (string body) => body.Replace("\"max_tokens\": 16", "\"max_tokens\": 16, \"stream\": true");
        var rows = await CompareAsync(backend, seconds,
        [
            ("no-op proxy (YARP 2.3), the limit", ($"http://127.0.0.1:{proxyPort}/v1/chat/completions", Request.Replace("MODEL", "bench"), null, null)),
            ("gateway, model: bench (named)", Call(http, "bench")),
            ("gateway, model: bench, record queued (RecordBeforeAnswer=false)", Call(queuedHttp, "bench")),
            ("gateway, model: auto (routed)", Call(http, "auto")),
            ("no-op proxy (YARP 2.3), streamed", ($"http://127.0.0.1:{proxyPort}/v1/chat/completions", streamed(Request.Replace("MODEL", "bench")), null, null)),
            ("gateway, model: bench, streamed", Call(http, "bench") with { Body = streamed(Request.Replace("MODEL", "bench")) }),
        ], [1, 16, 64]);
        Console.Error.WriteLine($"[gateway] CPU over the run: silos {silo.CpuTime.TotalSeconds:0.0} s and {queuedSilo.CpuTime.TotalSeconds:0.0} s, proxy {proxy.CpuTime.TotalSeconds:0.0} s, this process (load and backend) {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s");
        return rows;
    }

    /// <summary>
    /// Load for a profiler: the named-model call at concurrency 16 for <paramref name="seconds"/> against one silo, whose
    /// process id is printed first (e.g. <c>dotnet-trace collect -p PID --duration 00:00:10</c> meanwhile).
    /// </summary>
    public static async Task<IReadOnlyList<string>> RunProfileAsync(string siloDll, double seconds)
    {
        await using var backend = await InstantBackend.StartAsync();
        var (silo, http) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: true);
        await using var _ = silo;
        Console.Error.WriteLine($"[gateway-profile] silo pid {silo.ProcessId}");
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 });
        var figures = await MeasureAsync(client, Call(http, "bench"), 16, seconds);
        Console.Error.WriteLine($"[gateway-profile] silo CPU {silo.CpuTime.TotalSeconds:0.0} s");
        return [Row("gateway, model: bench (named), under a profiler", 16, figures, null)];
    }

    /// <summary>
    /// The cost of the silo's own tracing on the same named-model call: traces off (no exporter), every trace exported
    /// over OTLP/HTTP to a collector in this process, and one in ten (Kyros:Telemetry:SampleRatio=0.1).
    /// </summary>
    public static async Task<IReadOnlyList<string>> RunTracingAsync(string siloDll, double seconds)
    {
        await using var backend = await InstantBackend.StartAsync();
        await using var collector = await StartCollectorAsync();
        var (off, offHttp) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: true);
        await using var _ = off;
        var (on, onHttp) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: true, $"--OTEL_EXPORTER_OTLP_ENDPOINT={collector.Url}", "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf");
        await using var __ = on;
        var (sampled, sampledHttp) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: true, $"--OTEL_EXPORTER_OTLP_ENDPOINT={collector.Url}",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", "--Kyros:Telemetry:SampleRatio=0.1");
        await using var ___ = sampled;

        var rows = await CompareAsync(backend, seconds,
        [
            ("gateway, tracing off", Call(offHttp, "bench")),
            ("gateway, tracing on, every trace exported", Call(onHttp, "bench")),
            ("gateway, tracing on, 1 in 10 sampled", Call(sampledHttp, "bench")),
        ]);
        Console.Error.WriteLine($"[tracing] the collector took {collector.Exports} exports ({collector.Bytes / 1024:N0} KiB); CPU: off {off.CpuTime.TotalSeconds:0.0} s, on {on.CpuTime.TotalSeconds:0.0} s, sampled {sampled.CpuTime.TotalSeconds:0.0} s");
        return rows;
    }

    /// <summary>
    /// What a key's account and the response cache cost, on one silo with Redis (AOF, as shipped): the named-model call
    /// with a configured key (no account), with a run-time key with a budget (each call held at its account before the
    /// model and settled, stored, after), and answered from the response cache.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RunKeysAsync(string siloDll, double seconds)
    {
        await using var backend = await InstantBackend.StartAsync();
        var work = Directory.CreateTempSubdirectory("kyros-keys-").FullName;
        var redisPort = ChildProcess.FreePort();
        await using var redis = ChildProcess.Start("redis", "redis-server",
            ["--port", $"{redisPort}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", work]);
        await ChildProcess.WaitForPortAsync(redisPort, TimeSpan.FromSeconds(10));
        const string admin = "bench-admin-key-0123456789abcdef";
        var (silo, http) = await StartSiloAsync(siloDll, backend, recordBeforeAnswer: true, $"--Kyros:Redis=127.0.0.1:{redisPort}",
            "--Kyros:Auth:Keys:0:Name=bench", $"--Kyros:Auth:Keys:0:Key={admin}", "--Kyros:Auth:Keys:0:Scopes:0=read", "--Kyros:Auth:Keys:0:Scopes:1=write",
            "--Kyros:Auth:Keys:0:Scopes:2=admin", "--Kyros:Catalog:Models:0:InputPricePer1k=0.001", "--Kyros:Catalog:Models:0:OutputPricePer1k=0.002");
        await using var _ = silo;
        using var setup = new HttpClient();
        using var create = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{http}/v1/keys")
        {
            Content = new StringContent("""{"name": "bench-budget", "scopes": ["write"], "budget_usd": 1000000, "budget_period": "month"}""", Encoding.UTF8, "application/json"),
        };
        create.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", admin);
        using var created = await setup.SendAsync(create);
        var runtime = System.Text.Json.JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        var url = $"http://127.0.0.1:{http}/v1/chat/completions";
        var plain = Request.Replace("MODEL", "bench");
        var seeded = plain.Replace("\"max_tokens\": 16", "\"max_tokens\": 16, \"seed\": 1");
        var rows = await CompareAsync(backend, seconds,
        [
            ("gateway, configured key (no account)", (url, plain, admin, null)),
            ("gateway, run-time key with a budget (held and settled)", (url, plain, runtime, null)),
            ("gateway, response cache hit", (url, seeded, admin, "60")),
        ]);
        Console.Error.WriteLine($"[keys] CPU over the run: silo {silo.CpuTime.TotalSeconds:0.0} s, this process (load and backend) {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s");
        return rows;
    }

    private static (string Url, string Body, string? Key, string? CacheTtl) Call(int siloHttpPort, string model) =>
        ($"http://127.0.0.1:{siloHttpPort}/v1/chat/completions", Request.Replace("MODEL", model), null, null);

    /// <summary>Each path beside the backend called directly, at each concurrency (1 and 16 unless given), with the direct call as the baseline of its level.</summary>
    private static async Task<List<string>> CompareAsync(InstantBackend backend, double seconds,
        (string Name, (string Url, string Body, string? Key, string? CacheTtl) Call)[] paths, int[]? levels = null)
    {
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 });
        var direct = (Url: backend.BaseUrl + "/chat/completions", Body: Request.Replace("MODEL", "bench"), Key: (string?)null, CacheTtl: (string?)null);
        // The silo's first seconds of traffic run slower (JIT tiers, first activations, heap growth): spend them unmeasured.
        foreach (var (_, call) in paths) await MeasureAsync(client, call, 16, 3);
        var rows = new List<string>();
        foreach (var concurrency in levels ?? [1, 16])
        {
            var baseline = await MeasureAsync(client, direct, concurrency, seconds);
            rows.Add(Row("backend directly", concurrency, baseline, null));
            foreach (var (name, call) in paths) rows.Add(Row(name, concurrency, await MeasureAsync(client, call, concurrency, seconds), baseline));
        }
        return rows;
    }

    /// <summary>An OTLP/HTTP endpoint that takes exports and counts them (what a collector costs is not the silo's).</summary>
    private sealed class Collector(WebApplication app, string url) : IAsyncDisposable
    {
        public string Url => url;
        public long Exports;
        public long Bytes;

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }

    private static async Task<Collector> StartCollectorAsync()
    {
        var url = $"http://127.0.0.1:{ChildProcess.FreePort()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        var app = builder.Build();
        var collector = new Collector(app, url);
        app.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            var buffer = new byte[16384];
            long read = 0;
            for (int n; (n = await request.Body.ReadAsync(buffer)) > 0;) read += n;
            Interlocked.Increment(ref collector.Exports);
            Interlocked.Add(ref collector.Bytes, read);
            return Results.Bytes([], "application/x-protobuf");
        });
        await app.StartAsync();
        return collector;
    }

    private static async Task<(ChildProcess Silo, int Http)> StartSiloAsync(string siloDll, InstantBackend backend, bool recordBeforeAnswer, params string[] extra)
    {
        var work = Directory.CreateTempSubdirectory("kyros-gateway-").FullName;
        var http = ChildProcess.FreePort();
        var gateway = ChildProcess.FreePort();
        var silo = ChildProcess.Start("silo", "dotnet",
        [
            siloDll, $"--Kyros:SiloPort={ChildProcess.FreePort()}", $"--Kyros:GatewayPort={gateway}", $"--Kyros:HttpUrl=http://127.0.0.1:{http}",
            $"--Kyros:History:DatabasePath={Path.Combine(work, "history.db")}", "--Kyros:Dashboard=false", "--Kyros:Resources:SampleLocalHost=false",
            "--Kyros:Catalog:Models:0:Id=bench", "--Kyros:Catalog:Models:0:Provider=openai-compatible", $"--Kyros:Catalog:Models:0:Endpoint={backend.BaseUrl}",
            $"--Kyros:Gateway:RecordBeforeAnswer={recordBeforeAnswer}", "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Orleans=Error",
            .. extra,
        ], work);
        await ChildProcess.WaitForPortAsync(gateway, TimeSpan.FromSeconds(60));
        await ChildProcess.WaitForPortAsync(http, TimeSpan.FromSeconds(60));
        return (silo, http);
    }

    private sealed record Figures(double PerSecond, double Mean, double P50, double P99);

    private static string Row(string path, int concurrency, Figures f, Figures? baseline) => string.Create(CultureInfo.InvariantCulture,
        $"| {path} | {concurrency} | {f.PerSecond:N0} | {f.Mean:N0} | {f.P50:N0} | {f.P99:N0} | {Added(f.Mean, baseline?.Mean)} | {Added(f.P50, baseline?.P50)} | {Added(f.P99, baseline?.P99)} |");

    private static string Added(double value, double? baseline) =>
        baseline is { } b ? (value - b).ToString("+#,0;-#,0", CultureInfo.InvariantCulture) : "-";

    private static async Task<Figures> MeasureAsync(HttpClient client, (string Url, string Body, string? Key, string? CacheTtl) call, int concurrency, double seconds)
    {
        async Task<bool> Once()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, call.Url) { Content = new StringContent(call.Body, Encoding.UTF8, "application/json") };
            if (call.Key is { } key) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            if (call.CacheTtl is { } ttl) request.Headers.Add("x-kyros-cache-ttl", ttl);
            using var response = await client.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            return response.IsSuccessStatusCode;
        }
        if (!await Once()) throw new InvalidOperationException($"{call.Url} did not answer 200.");
        // Two seconds of the same load first, so the JIT's later tiers are in place before anything is measured.
        await LoopAsync(2);
        var latencies = new List<long>[concurrency];
        for (var w = 0; w < concurrency; w++) latencies[w] = new List<long>(8192);
        var watch = Stopwatch.StartNew();
        await LoopAsync(seconds, latencies);
        var all = latencies.SelectMany(l => l).Order().Select(t => t * 1e6 / Stopwatch.Frequency).ToArray();
        return new Figures(all.Length / watch.Elapsed.TotalSeconds, all.Average(), all[all.Length / 2], all[(int)(all.Length * 0.99)]);

        Task LoopAsync(double span, List<long>[]? record = null)
        {
            var end = Stopwatch.GetTimestamp() + (long)(span * Stopwatch.Frequency);
            return Task.WhenAll(Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                while (Stopwatch.GetTimestamp() < end)
                {
                    var start = Stopwatch.GetTimestamp();
                    await Once();
                    record?[w].Add(Stopwatch.GetTimestamp() - start);
                }
            })));
        }
    }
}
