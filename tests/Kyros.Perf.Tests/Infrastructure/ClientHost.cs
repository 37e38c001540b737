using Kyros.Perf.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>A started host with the SDK, as a .NET service would have it, for tests against silo processes.</summary>
public static class ClientHost
{
    /// <summary>The SDK of a cluster of <see cref="SiloProcess"/>es: found through <paramref name="redis"/>, under <paramref name="serviceId"/>.</summary>
    public static Task<IHost> StartAsync(string redis, string serviceId) => StartAsync(o =>
    {
        o.Redis = redis;
        o.ServiceId = serviceId;
        o.ClusterId = serviceId;
    });

    /// <param name="services">More services after the SDK's (one of Orleans' own in place of its default, for one).</param>
    public static async Task<IHost> StartAsync(Action<KyrosPerfClientOptions> configure, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Services.AddKyrosPerfClient(configure);
        services?.Invoke(builder.Services);
        var host = builder.Build();
        try
        {
            await host.StartAsync();
        }
        catch
        {
            // A client the cluster refused (a test of refusals) leaves nothing running.
            host.Dispose();
            throw;
        }
        return host;
    }
}
