using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Benchmarking;
using Kyros.Perf.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// The benchmark's own open-loop load generator (<see cref="BenchmarkLoad"/>, run in a real silo) against a backend that
/// answers at once, beside autocannon as a reference generator sending the same request to the same backend: the rate
/// each keeps up, and the CPU each spends per request. Generators and backend share this machine.
/// </summary>
public static class LoadGeneratorCeiling
{
    private static readonly double[] TargetRates = [1_000, 2_500, 5_000, 7_500, 10_000];
    /// <summary>Far beyond what 2 cores can send: the generator then sends as fast as it can, and the rest is late.</summary>
    private const double UnboundedRate = 25_000;
    /// <summary>Requests in flight a load test may hold (the silo allows up to 16 × its <c>MaxConcurrency</c> of 256).</summary>
    private const int MaxInFlight = 1024;
    /// <summary>Enough connections that autocannon's per-connection budgets never wait on one another.</summary>
    private const int AutocannonConnections = 100;

    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, double seconds, string? autocannon)
    {
        if (autocannon is null)
            Console.Error.WriteLine("[loadgen] no reference generator: pass --autocannon PATH or set KYROS_AUTOCANNON " +
                                    "(npm install --prefix /tmp/kyros-autocannon autocannon@8; PATH /tmp/kyros-autocannon/node_modules/.bin/autocannon)");
        await using var backend = await InstantBackend.StartAsync();
        var work = Directory.CreateTempSubdirectory("kyros-loadgen-").FullName;
        await using var bench = await BenchSilo.StartAsync(siloDll, work,
        [
            "--Kyros:Resources:SampleLocalHost=false",
            "--Kyros:Catalog:Models:0:Id=instant", "--Kyros:Catalog:Models:0:Provider=openai-compatible", $"--Kyros:Catalog:Models:0:Endpoint={backend.BaseUrl}",
            "--Kyros:Catalog:Models:0:TimeoutSeconds=120",
        ]);
        var silo = bench.Process;
        using var host = await bench.ConnectAsync();
        var client = host.Services.GetRequiredService<KyrosPerfClient>();

        // A fresh silo spends its first 20-odd seconds under load compiling (the JIT's later tiers took half a core here)
        // and falls far behind a high rate meanwhile: spend them unmeasured. Its first request is the one autocannon replays.
        await RunOursAsync(client, silo, 2_000, 3);
        await RunOursAsync(client, silo, 10_000, 5);
        var request = backend.FirstRequest ?? throw new InvalidOperationException("the backend saw no request from the silo");
        if (autocannon is not null) await RunAutocannonAsync(autocannon, backend, request, 2_000, 2, correctLatency: false);

        var rows = new List<string>();
        foreach (var rate in TargetRates)
        {
            rows.Add(await RunOursAsync(client, silo, rate, seconds));
            if (autocannon is not null) rows.Add(await RunAutocannonAsync(autocannon, backend, request, rate, seconds, correctLatency: false));
        }
        rows.Add(await RunOursAsync(client, silo, UnboundedRate, seconds));
        if (autocannon is not null)
        {
            rows.Add(await RunAutocannonAsync(autocannon, backend, request, null, seconds, correctLatency: false));
            // Its latency as it reports it by default, once, to show what its correction does to the same load.
            rows.Add(await RunAutocannonAsync(autocannon, backend, request, 5_000, seconds, correctLatency: true));
        }
        await host.StopAsync();
        return rows;
    }

    /// <summary>One benchmark run whose load test is the measured cell: a single closed-loop request first, as a run must have a level.</summary>
    private static async Task<string> RunOursAsync(KyrosPerfClient client, ChildProcess silo, double rate, double seconds)
    {
        var config = new BenchmarkConfig
        {
            ModelTypes = ["instant"],
            TestPrompts = [new BenchmarkPrompt("Say ok.")],
            IterationsPerModel = 1,
            ConcurrencyLevels = [1],
            MaxTokens = 8,
            Load = new BenchmarkLoad(rate, seconds, 1, MaxInFlight),
        };
        var self = Process.GetCurrentProcess();
        var (silo0, self0) = (silo.CpuTime, self.TotalProcessorTime);
        (TimeSpan Silo, TimeSpan Self)? sent = null;
        // The CPU up to the poll that sees every request answered: the sends, not the statistics and storage that follow.
        var run = await client.RunBenchmarkAsync(config, new OnProgress(r =>
        {
            if (sent is not null || r.Status != BenchmarkStatus.Running || r.Progress.Completed < r.Progress.Total) return;
            self.Refresh();
            sent = (silo.CpuTime, self.TotalProcessorTime);
        }), TimeSpan.FromMilliseconds(100));
        if (run.Status != BenchmarkStatus.Completed) throw new InvalidOperationException($"benchmark run {run.Id} {BenchmarkStatuses.Name(run.Status)}: {run.Error}");
        self.Refresh();
        var (siloUsed, selfUsed) = sent ?? (silo.CpuTime, self.TotalProcessorTime);
        var load = run.Results.Single(r => r.Mode == BenchmarkRunner.OpenLoop);
        var requests = load.Requests + 1; // the closed-loop request ran too
        var achieved = load.Requests / load.WallSeconds;
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[loadgen] kyros {rate:N0}/s: {achieved:N0}/s, {load.LateSends:N0} late (max {load.MaxSendDelay * 1e3:N1} ms), p50 {load.Latency.P50 * 1e3:N2} ms, p99 {load.Latency.P99 * 1e3:N2} ms; " +
                        $"silo after the sends {(silo.CpuTime - siloUsed).TotalSeconds:N1} s CPU"));
        var errors = load.Requests - load.Successes;
        return string.Create(CultureInfo.InvariantCulture,
            $"| kyros `BenchmarkLoad` (silo) | {(rate == UnboundedRate ? $"{rate:N0} (beyond reach)" : $"{rate:N0}")} | {achieved:N0} | {load.Successes:N0} | {errors:N0}{ErrorKinds(load.Errors)} | " +
            $"{load.LateSends:N0} ({100.0 * load.LateSends / Math.Max(1, load.Requests):0.0} %) | {load.MaxSendDelay * 1e3:N1} | {load.Latency.P50 * 1e3:N2} | {load.Latency.P99 * 1e3:N2} | " +
            $"{(siloUsed - silo0).TotalMicroseconds / requests:N0} | {(selfUsed - self0).TotalMicroseconds / requests:N0} |");
    }

    private static string ErrorKinds(Dictionary<string, int> errors) =>
        errors.Count == 0 ? "" : $" ({string.Join(", ", errors.Select(e => $"{e.Key} {e.Value:N0}"))})";

    /// <summary>
    /// autocannon at <paramref name="rate"/> (<c>--overallRate</c>; null: as fast as it can) with the silo's own request.
    /// It has no schedule: each connection sends back to back until its share of the second's budget is spent, and its
    /// latency runs from each actual send, in whole milliseconds. Its coordinated-omission correction (on by default)
    /// assumes 1 ms between a connection's sends whatever the rate (<c>Math.ceil(1 / rate)</c>, the rate per second and
    /// the latency in ms), so it adds a made-up sample for every millisecond of each answer: off unless
    /// <paramref name="correctLatency"/>.
    /// </summary>
    private static async Task<string> RunAutocannonAsync(string autocannon, InstantBackend backend, CapturedRequest request, double? rate, double seconds,
        bool correctLatency)
    {
        var args = new List<string> { "--json", "--connections", $"{AutocannonConnections}", "--duration", seconds.ToString(CultureInfo.InvariantCulture),
            "--method", "POST", "--body", request.Body };
        foreach (var (name, value) in request.Headers) args.AddRange(["--headers", $"{name}={value}"]);
        if (rate is { } r) args.AddRange(["--overallRate", r.ToString("0", CultureInfo.InvariantCulture)]);
        if (rate is not null && !correctLatency) args.Add("--ignoreCoordinatedOmission");
        args.Add(backend.BaseUrl + "/chat/completions");

        var start = new ProcessStartInfo(autocannon) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var self = Process.GetCurrentProcess();
        var self0 = self.TotalProcessorTime;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {autocannon}");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        // An exited process's CPU time can no longer be read: keep the last reading (at most 100 ms short).
        var cpu = TimeSpan.Zero;
        while (!process.HasExited)
        {
            try
            {
                process.Refresh();
                cpu = process.TotalProcessorTime;
            }
            catch (InvalidOperationException)
            {
                break; // exited between the check and the reading
            }
            await Task.Delay(100);
        }
        await process.WaitForExitAsync();
        self.Refresh();
        var selfUsed = self.TotalProcessorTime - self0;
        var json = (await output).Split('\n').LastOrDefault(line => line.StartsWith('{'))
                   ?? throw new InvalidOperationException($"autocannon exited with {process.ExitCode} and no result: {await error}");
        using var result = JsonDocument.Parse(json);
        var root = result.RootElement;
        var answered = root.GetProperty("requests").GetProperty("total").GetDouble();
        var achieved = answered / root.GetProperty("duration").GetDouble();
        var successes = root.GetProperty("2xx").GetInt64();
        var (errors, timeouts, non2xx) = (root.GetProperty("errors").GetInt64(), root.GetProperty("timeouts").GetInt64(), root.GetProperty("non2xx").GetInt64());
        var latency = root.GetProperty("latency");
        var (p50, p99) = (latency.GetProperty("p50").GetDouble(), latency.GetProperty("p99").GetDouble());
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[loadgen] autocannon {(rate is { } t ? $"{t:N0}/s" : "unbounded")}: {achieved:N0}/s, p50 {p50:N0} ms, p99 {p99:N0} ms, {errors} errors, {timeouts} timeouts, {non2xx} non-2xx"));
        var failed = errors + non2xx; // its errors include its timeouts
        var kinds = failed == 0 ? "" : $" (timeouts {timeouts:N0}, other errors {errors - timeouts:N0}, non-2xx {non2xx:N0})";
        return string.Create(CultureInfo.InvariantCulture,
            $"| autocannon, {AutocannonConnections} connections{(correctLatency ? ", its latency correction on" : "")} | {(rate is { } v ? $"{v:N0}" : "none")} | {achieved:N0} | {successes:N0} | {failed:N0}{kinds} | - | - | " +
            $"{p50:N0} | {p99:N0} | {cpu.TotalMicroseconds / Math.Max(1, answered):N0} | {selfUsed.TotalMicroseconds / Math.Max(1, answered):N0} |");
    }

    /// <summary>Reports a run's progress on the polling thread itself, so that the CPU reading is taken when the poll sees it.</summary>
    private sealed class OnProgress(Action<BenchmarkRun> report) : IProgress<BenchmarkRun>
    {
        public void Report(BenchmarkRun value) => report(value);
    }
}
