using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;

[assembly: AssemblyFixture(typeof(Kyros.Perf.Tests.Infrastructure.RedisServer))]

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A real Redis for the whole test run: <c>KYROS_TEST_REDIS</c> when set, otherwise a throwaway
/// <c>redis-server</c> on a free loopback port, stopped by its pid at the end. It persists as the shipped ones do
/// (AOF, fsync every second, in its own directory), so it comes back with its data when restarted.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private string bind = "127.0.0.1";
    private bool appendOnly = true;

    /// <summary>A server of a test's own that listens on <paramref name="address"/> only (a test of hosts in namespaces gives the lab's bridge).</summary>
    public static RedisServer On(string address) => new() { bind = address };

    /// <summary>A server of a test's own that keeps nothing across a restart (no AOF, no snapshots), as an unconfigured Redis.</summary>
    public static RedisServer Volatile() => new() { appendOnly = false };

    /// <summary>A server of a test's own that takes TLS only, with this certificate (clients show none).</summary>
    public static RedisServer WithTls(string certificatePath, string keyPath, string caPath) =>
        new() { tls = ["--port", "0", "--tls-port", "{port}", "--tls-cert-file", certificatePath, "--tls-key-file", keyPath, "--tls-ca-cert-file", caPath, "--tls-auth-clients", "no"] };

    private string[]? tls;

    private Process? _process;
    private string? _directory;
    private int _port;

    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("KYROS_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(external) && tls is null)
        {
            ConnectionString = external;
            return;
        }

        _port = FreePort.Next();
        _directory = Directory.CreateTempSubdirectory("kyros-redis-").FullName;
        // Generous timeouts: on 2 shared cores several clusters and silo processes start at once.
        ConnectionString = $"{bind}:{_port},asyncTimeout=15000,syncTimeout=15000,connectTimeout=15000";
        await StartAsync();
    }

    private async Task StartAsync()
    {
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--bind", bind, "--protected-mode", "no", "--save", "", "--dir", _directory! },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in tls?.Select(a => a.Replace("{port}", _port.ToString())) ?? ["--port", _port.ToString()])
            start.ArgumentList.Add(argument);
        foreach (var argument in appendOnly ? ["--appendonly", "yes", "--appendfsync", "everysec"] : new[] { "--appendonly", "no" })
            start.ArgumentList.Add(argument);
        try
        {
            _process = Process.Start(start)!;
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it, or set KYROS_TEST_REDIS.", exception);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(bind, _port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>Ends the server at once (SIGKILL): what it had not written to its AOF is gone.</summary>
    public void KillHard()
    {
        var process = _process ?? throw new InvalidOperationException("Only a redis-server this test run started can be killed.");
        process.Kill();
        process.WaitForExit(5000);
    }

    /// <summary>Starts a killed server again on its port and directory: it loads its AOF, if it keeps one.</summary>
    public Task RestartAsync()
    {
        if (_process is not { HasExited: true }) throw new InvalidOperationException("Only a killed redis-server of this test run restarts.");
        _process.Dispose();
        return StartAsync();
    }

    /// <summary>Whether this is a server of its own (not <c>KYROS_TEST_REDIS</c>), which a test may freeze.</summary>
    public bool IsOwn => _process is not null;

    /// <summary>Stops the server's process without ending it (SIGSTOP): connections stay open and nothing answers, as when Redis hangs.</summary>
    public void Freeze() => Signal("STOP");

    /// <summary>Lets a frozen server run again (SIGCONT).</summary>
    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        var process = _process ?? throw new InvalidOperationException("Only a redis-server this test run started can be frozen.");
        using var kill = Process.Start("kill", [$"-{signal}", process.Id.ToString()]);
        kill.WaitForExit();
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false }) Thaw();
        if (_process is { HasExited: false })
        {
            _process.Kill();
            _process.WaitForExit(5000);
        }
        _process?.Dispose();
        if (_directory is not null) Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A loopback port free now and never handed out before in this test run: the system may give the same ephemeral port
/// to two asks in a row once the first is closed, and two silos (or a silo's two ports) would then collide.
/// </summary>
public static class FreePort
{
    private static readonly HashSet<int> Given = [];

    public static int Next()
    {
        while (true)
        {
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            lock (Given)
                if (Given.Add(port)) return port;
        }
    }
}
