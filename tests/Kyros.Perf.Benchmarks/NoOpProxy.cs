using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Configuration;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// The limit of a .NET proxy, for the gateway to be measured against: YARP forwarding every request to one backend and
/// doing nothing else, in a process of its own as the silo is (this benchmark started again with <c>proxy PORT URL</c>).
/// </summary>
public static class NoOpProxy
{
    public const string Mode = "proxy";

    public static async Task RunAsync(int port, string backend)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Services.AddReverseProxy().LoadFromMemory(
            [new RouteConfig { RouteId = "all", ClusterId = "backend", Match = new RouteMatch { Path = "{**rest}" } }],
            [new ClusterConfig { ClusterId = "backend", Destinations = new Dictionary<string, DestinationConfig> { ["only"] = new() { Address = backend } } }]);
        var app = builder.Build();
        app.MapReverseProxy();
        await app.RunAsync();
    }

    /// <summary>Starts the proxy as a child process in front of <paramref name="backend"/>; its port once it listens.</summary>
    public static async Task<(ChildProcess Process, int Port)> StartAsync(string backend)
    {
        var port = ChildProcess.FreePort();
        var process = ChildProcess.Start("yarp", "dotnet", [typeof(NoOpProxy).Assembly.Location, Mode, $"{port}", backend]);
        await ChildProcess.WaitForPortAsync(port, TimeSpan.FromSeconds(30));
        return (process, port);
    }
}
