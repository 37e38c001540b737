using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.HostSampling;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// What sampling a host costs: the sampler and the grain's per-sample work measured in this process, and two real silo
/// processes side by side for a minute, one sampling its host every second and one not sampling, compared by CPU time.
/// </summary>
public static class SamplingOverhead
{
    public static async Task<IReadOnlyList<string>> RunAsync(string siloDll, double siloSeconds)
    {
        var rows = new List<string>();
        var gpus = new GpuReader(new ResourceOptions().NvidiaSmiPath, NullLogger<GpuReader>.Instance);
        var sampler = new HostResourceSampler(gpus, TimeProvider.System, new InFlightRequests());
        await sampler.SampleAsync("bench", "default");
        await Task.Delay(1000);
        var sample = await sampler.SampleAsync("bench", "default"); // with rates: every series this host has
        var perSample = await CpuPerCallAsync(200, () => sampler.SampleAsync("bench", "default"));
        rows.Add(Row("sampler: one reading of this host (CPU, memory, disks, network, TCP, GPUs: " + gpus.SourceName + ")", perSample));

        // The grain's work per sample once its window is full: 1 h at 1 s of this host's series.
        var options = new ResourceOptions { SampleInterval = TimeSpan.FromSeconds(1) };
        var monitor = new NodeMonitor("bench", options);
        var start = DateTimeOffset.UtcNow.AddHours(-2);
        var random = new Random(1);
        var index = 0;
        ResourceSample Next() => sample with { Timestamp = start.AddSeconds(index++), CpuPercent = 30 + random.NextDouble() * 10 };
        for (var i = 0; i < 3600; i++) monitor.Ingest(Next(), DefaultThresholds.All.GetValueOrDefault);
        var series = ResourceMetrics.Flatten(sample).Count();
        var ingest = await CpuPerCallAsync(600, () =>
        {
            monitor.Ingest(Next(), DefaultThresholds.All.GetValueOrDefault);
            return Task.CompletedTask;
        });
        rows.Add(Row($"grain: take one sample with a full window (3,600 samples x {series} series; alerts, spikes, trends and cycles each minute)", ingest));

        var (sampling, idle) = await SiloPairAsync(siloDll, siloSeconds);
        var share = (sampling - idle).TotalSeconds / siloSeconds;
        rows.Add(string.Create(CultureInfo.InvariantCulture,
            $"| silo process over {siloSeconds:0} s: sampling every 1 s {sampling.TotalMilliseconds:N0} ms CPU, not sampling {idle.TotalMilliseconds:N0} ms | {(sampling - idle).TotalMilliseconds / siloSeconds:N1} ms CPU per second | {share:P2} |"));
        return rows;
    }

    private static string Row(string what, TimeSpan cpuPerCall) => string.Create(CultureInfo.InvariantCulture,
        $"| {what} | {cpuPerCall.TotalMicroseconds:N0} µs CPU per sample | {cpuPerCall.TotalSeconds:P3} |");

    private static async Task<TimeSpan> CpuPerCallAsync(int calls, Func<Task> call)
    {
        for (var i = 0; i < 20; i++) await call();
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.TotalProcessorTime;
        for (var i = 0; i < calls; i++) await call();
        process.Refresh();
        return (process.TotalProcessorTime - before) / calls;
    }

    /// <summary>Two silos started together, one sampling every second and one not; CPU time over the same span once both are warm.</summary>
    private static async Task<(TimeSpan Sampling, TimeSpan Idle)> SiloPairAsync(string siloDll, double seconds)
    {
        async Task<ChildProcess> Start(string name, bool sample)
        {
            var work = Directory.CreateTempSubdirectory("kyros-sampling-").FullName;
            var gateway = ChildProcess.FreePort();
            var silo = ChildProcess.Start(name, "dotnet",
            [
                siloDll, $"--Kyros:SiloPort={ChildProcess.FreePort()}", $"--Kyros:GatewayPort={gateway}", $"--Kyros:HttpUrl=http://127.0.0.1:{ChildProcess.FreePort()}",
                $"--Kyros:History:DatabasePath={Path.Combine(work, "history.db")}", "--Kyros:Dashboard=false", $"--Kyros:HostName={name}",
                $"--Kyros:Resources:SampleLocalHost={sample}", "--Kyros:Resources:SampleInterval=00:00:01",
                "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Orleans=Error",
            ], work);
            await ChildProcess.WaitForPortAsync(gateway, TimeSpan.FromSeconds(60));
            return silo;
        }
        await using var sampling = await Start("sampling", sample: true);
        await using var idle = await Start("idle", sample: false);
        // Past start-up and the JIT's tiering of the sampling path, which would otherwise be counted as sampling.
        await Task.Delay(TimeSpan.FromSeconds(60));
        var (samplingBefore, idleBefore) = (sampling.CpuTime, idle.CpuTime);
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        return (sampling.CpuTime - samplingBefore, idle.CpuTime - idleBefore);
    }
}
