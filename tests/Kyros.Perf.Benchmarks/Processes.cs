using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Kyros.Perf.Benchmarks;

/// <summary>The real processes a run measures against: a silo, and a throwaway Redis.</summary>
public sealed class ChildProcess(Process process, string name) : IAsyncDisposable
{
    public string Name { get; } = name;

    public int ProcessId => process.Id;

    public static ChildProcess Start(string name, string file, IEnumerable<string> args, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? "" };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && e.Data.Contains("fail:")) Console.Error.WriteLine($"[{name}] {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ChildProcess(process, name);
    }

    public TimeSpan CpuTime
    {
        get
        {
            process.Refresh();
            return process.HasExited ? TimeSpan.Zero : process.TotalProcessorTime;
        }
    }

    /// <summary>The process's resident memory (its working set), in bytes.</summary>
    public long WorkingSetBytes
    {
        get
        {
            process.Refresh();
            return process.HasExited ? 0 : process.WorkingSet64;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        process.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Kyros.Perf.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Kyros.Perf.sln not found");
    }
}
