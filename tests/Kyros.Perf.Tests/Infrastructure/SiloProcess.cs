using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>A real silo process (the built <c>silo</c> project) in Redis cluster mode on loopback ports.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process _process;

    private SiloProcess(Process process, string name, string httpUrl, int gatewayPort)
    {
        _process = process;
        Name = name;
        HttpUrl = httpUrl;
        GatewayPort = gatewayPort;
    }

    /// <summary>Its <c>Kyros:HostName</c>: the silo's name in the cluster.</summary>
    public string Name { get; }
    public string HttpUrl { get; }
    public int GatewayPort { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    /// <param name="settings">More configuration, as <c>--Key=value</c> arguments (a catalog, for one).</param>
    public static Task<SiloProcess> StartAsync(string redis, string serviceId, string name, string dataDirectory, params string[] settings) =>
        StartAsync(redis, serviceId, name, dataDirectory, "127.0.0.1", [], settings);

    /// <summary>A silo on host <paramref name="labHost"/> of a <see cref="NetworkLab"/>: in its namespace, on its address.</summary>
    public static Task<SiloProcess> StartOnAsync(int labHost, string redis, string serviceId, string name, string dataDirectory, params string[] settings) =>
        StartAsync(redis, serviceId, name, dataDirectory, NetworkLab.AddressOf(labHost), NetworkLab.On(labHost),
            // The lab's namespaces reach nothing beyond this machine: its silos serve without keys, and Orleans without TLS
            // (their addresses are not loopback, where it would be on by default).
            [$"--Kyros:AdvertisedAddress={NetworkLab.AddressOf(labHost)}", "--Kyros:Auth:AllowAnonymous=true", "--Kyros:Tls:Enabled=false", .. settings]);

    private static async Task<SiloProcess> StartAsync(string redis, string serviceId, string name, string dataDirectory, string address, string[] prefix,
        string[] settings)
    {
        var httpUrl = $"http://{address}:{FreePort.Next()}";
        var gatewayPort = FreePort.Next();
        // "ip netns exec <namespace> dotnet <silo> ...": a prefix's first word is the program.
        string[] command = [.. prefix, "dotnet", BuiltAssembly.Path("silo", "Kyros.Perf.Silo.dll")];
        var start = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = dataDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in command.Skip(1)) start.ArgumentList.Add(argument);
        foreach (var argument in new[]
            {
                $"--Kyros:Redis={redis}",
                $"--Kyros:ServiceId={serviceId}",
                $"--Kyros:ClusterId={serviceId}",
                $"--Kyros:HostName={name}",
                $"--Kyros:SiloPort={FreePort.Next()}",
                $"--Kyros:GatewayPort={gatewayPort}",
                $"--Kyros:HttpUrl={httpUrl}",
                $"--Kyros:RecentRecords:KeyPrefix={serviceId}",
                $"--Kyros:History:DatabasePath={Path.Combine(dataDirectory, "history.db")}",
                // Membership as the silo ships it (KyrosSiloHost.LanMembership): what the failover tests measure.
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:Orleans=Error",
            })
            start.ArgumentList.Add(argument);
        foreach (var setting in settings) start.ArgumentList.Add(setting);
        var process = Process.Start(start)!;
        var silo = new SiloProcess(process, name, httpUrl, gatewayPort);
        process.OutputDataReceived += (_, line) => silo.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => silo.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await silo.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        return silo;
    }

    public void KillHard() => _process.Kill(entireProcessTree: true);

    /// <summary>SIGTERM, as an orchestrator stops a silo, and waits for it to leave; false when it had not within <paramref name="within"/>.</summary>
    public async Task<bool> StopGracefullyAsync(TimeSpan within)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        return await ExitedWithinAsync(within);
    }

    /// <summary>Waits for the process to end by itself; false when it had not within <paramref name="within"/>.</summary>
    public async Task<bool> ExitedWithinAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public int ExitCode => _process.ExitCode;

    private readonly Queue<string> _log = new();

    /// <summary>The last 2,000 lines the process wrote (warnings and errors: the silo logs at Warning), for a failing test to show.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log) return [.. _log];
        }
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_log)
        {
            _log.Enqueue(line);
            if (_log.Count > 2_000) _log.Dequeue();
        }
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                // Until its output has been read to the end: the reason is in its last lines.
                _process.WaitForExit();
                throw new InvalidOperationException($"The silo process exited with {_process.ExitCode} before it was healthy: {string.Join(" | ", Log.TakeLast(8))}");
            }
            try
            {
                var health = await http.GetFromJsonAsync<JsonElement>($"{HttpUrl}/healthz");
                if (health.GetProperty("status").GetString() == "ok") return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"The silo at {HttpUrl} was not healthy within {timeout}.");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
