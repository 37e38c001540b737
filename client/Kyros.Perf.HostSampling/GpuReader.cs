using System.Diagnostics;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.HostSampling;

/// <summary>
/// The host's NVIDIA GPUs: NVML (<c>libnvidia-ml.so.1</c>) when it loads, <c>nvidia-smi</c> when it does not, and no GPU
/// (an empty list, logged once) when neither is there.
/// </summary>
/// <param name="nvidiaSmiPath">The <c>nvidia-smi</c> to fall back on (empty: none).</param>
public sealed class GpuReader(string nvidiaSmiPath, ILogger<GpuReader> logger)
{
    private readonly Lazy<Source> _source = new(() => Choose(nvidiaSmiPath, logger));

    public string SourceName => _source.Value.ToString();

    public async Task<IReadOnlyList<GpuSample>> ReadAsync(CancellationToken cancellationToken = default)
    {
        switch (_source.Value)
        {
            case Source.Nvml:
                return Nvml.Read();
            case Source.NvidiaSmi:
                try
                {
                    return NvidiaSmi.Parse(await NvidiaSmi.QueryAsync(nvidiaSmiPath, cancellationToken));
                }
                catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or FormatException or TimeoutException)
                {
                    logger.LogWarning("nvidia-smi failed: {Reason}", e.Message);
                    return [];
                }
            default:
                return [];
        }
    }

    private static Source Choose(string nvidiaSmiPath, ILogger logger)
    {
        if (Nvml.TryInitialize(out var nvmlError))
        {
            logger.LogInformation("GPUs are read through NVML");
            return Source.Nvml;
        }
        if (!string.IsNullOrEmpty(nvidiaSmiPath) && NvidiaSmi.IsAvailable(nvidiaSmiPath))
        {
            logger.LogInformation("GPUs are read through {Path} (NVML: {Reason})", nvidiaSmiPath, nvmlError);
            return Source.NvidiaSmi;
        }
        logger.LogInformation("No GPU on this host: NVML did not load ({Reason}) and nvidia-smi was not found; GPUs are not reported", nvmlError);
        return Source.None;
    }

    private enum Source { None, Nvml, NvidiaSmi }
}

/// <summary>The <c>nvidia-smi</c> fallback: one CSV query, parsed.</summary>
public static class NvidiaSmi
{
    public const string Query = "index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw";
    private const long MiB = 1024 * 1024;

    public static bool IsAvailable(string path) =>
        Path.IsPathRooted(path) ? File.Exists(path)
        : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Any(d => File.Exists(Path.Combine(d, path)));

    public static async Task<string> QueryAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(path, [$"--query-gpu={Query}", "--format=csv,noheader,nounits"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{path} did not start.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{path} exited with {process.ExitCode}.");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{path} did not answer within 5 s.");
        }
    }

    /// <summary>
    /// Parses <c>--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw --format=csv,noheader,nounits</c>.
    /// Memory is in MiB; a field the driver cannot give (<c>[N/A]</c>, <c>[Not Supported]</c>) becomes null.
    /// </summary>
    public static IReadOnlyList<GpuSample> Parse(string csv)
    {
        var gpus = new List<GpuSample>();
        foreach (var raw in csv.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = raw.Split(',', StringSplitOptions.TrimEntries);
            if (f.Length != 7) throw new FormatException($"nvidia-smi line '{raw}' has {f.Length} fields, not 7.");
            var index = (int)(Number(f[0]) ?? throw new FormatException($"nvidia-smi line '{raw}' has no index."));
            var used = (long)((Number(f[3]) ?? 0) * MiB);
            var total = (long)((Number(f[4]) ?? 0) * MiB);
            gpus.Add(new GpuSample(index, f[1], Number(f[2]), Math.Min(used, total), total, Number(f[5]), Number(f[6])));
        }
        return gpus;
    }

    private static double? Number(string field) =>
        double.TryParse(field, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;
}
