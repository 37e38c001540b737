using Kyros.Perf.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// A silo process on free loopback ports, with its own work folder (history file, logs quiet but for errors), ready once
/// its gateway and HTTP ports answer; and the SDK client a run drives it through.
/// </summary>
public sealed class BenchSilo(ChildProcess process, int gateway, int http) : IAsyncDisposable
{
    public ChildProcess Process { get; } = process;
    public int GatewayPort { get; } = gateway;
    public string HttpUrl { get; } = $"http://127.0.0.1:{http}";

    /// <param name="settings">The run's own settings, given the work folder (where a catalog file may be written first).</param>
    public static async Task<BenchSilo> StartAsync(string siloDll, string work, IEnumerable<string> settings)
    {
        var gateway = ChildProcess.FreePort();
        var http = ChildProcess.FreePort();
        var process = ChildProcess.Start("silo", "dotnet",
        [
            siloDll, $"--Kyros:SiloPort={ChildProcess.FreePort()}", $"--Kyros:GatewayPort={gateway}", $"--Kyros:HttpUrl=http://127.0.0.1:{http}",
            $"--Kyros:History:DatabasePath={Path.Combine(work, "history.db")}", "--Kyros:Dashboard=false",
            "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Orleans=Error", .. settings,
        ], work);
        await ChildProcess.WaitForPortAsync(gateway, TimeSpan.FromSeconds(60));
        await ChildProcess.WaitForPortAsync(http, TimeSpan.FromSeconds(60));
        return new BenchSilo(process, gateway, http);
    }

    /// <summary>An SDK client on this silo's gateway, or through Redis clustering when <paramref name="redis"/> is given.</summary>
    public async Task<IHost> ConnectAsync(string? redis = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Services.AddKyrosPerfClient(o =>
        {
            if (redis is not null) o.Redis = redis;
            else o.Gateways = [$"127.0.0.1:{GatewayPort}"];
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}
