using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;

[assembly: AssemblyFixture(typeof(Kyros.Perf.Tests.Infrastructure.RedisServer))]

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A real Redis for the whole test run: <c>KYROS_TEST_REDIS</c> when set, otherwise a throwaway
/// <c>redis-server</c> on a free loopback port, stopped by its pid at the end.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private string bind = "127.0.0.1";

    /// <summary>A server of a test's own that listens on <paramref name="address"/> only (a test of hosts in namespaces gives the lab's bridge).</summary>
    public static RedisServer On(string address) => new() { bind = address };

    private Process? _process;
    private string? _directory;

    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable("KYROS_TEST_REDIS");
        if (!string.IsNullOrWhiteSpace(external))
        {
            ConnectionString = external;
            return;
        }

        var port = FreePort.Next();
        _directory = Directory.CreateTempSubdirectory("kyros-redis-").FullName;
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { "--port", port.ToString(), "--bind", bind, "--protected-mode", "no", "--save", "", "--appendonly", "no", "--dir", _directory },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            _process = Process.Start(start)!;
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException("redis-server is not installed: run ./test.sh, which installs it, or set KYROS_TEST_REDIS.", exception);
        }
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Generous timeouts: on 2 shared cores several clusters and silo processes start at once.
        ConnectionString = $"{bind}:{port},asyncTimeout=15000,syncTimeout=15000,connectTimeout=15000";
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(bind, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
        }
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

public static class FreePort
{
    public static int Next()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
