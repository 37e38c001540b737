using Kyros.Perf.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>A started host with the SDK, as a .NET service would have it, for tests against silo processes.</summary>
public static class ClientHost
{
    public static async Task<IHost> StartAsync(Action<KyrosPerfClientOptions> configure)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Services.AddKyrosPerfClient(configure);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
