using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Kyros.Perf.Client;

public static class KyrosPerfClientServices
{
    /// <summary>Adds the Orleans client for a Kyros.Perf cluster and the <see cref="KyrosPerfClient"/> facade, from the <c>Kyros</c> section.</summary>
    public static IServiceCollection AddKyrosPerfClient(this IServiceCollection services, IConfiguration configuration) =>
        services.AddKyrosPerfClient(o => configuration.GetSection(KyrosPerfClientOptions.Section).Bind(o));

    public static IServiceCollection AddKyrosPerfClient(this IServiceCollection services, Action<KyrosPerfClientOptions> configure)
    {
        var options = new KyrosPerfClientOptions();
        configure(options);
        options.Validate();
        services.AddOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = options.ServiceId;
                o.ClusterId = options.ClusterId;
            });
            if (!string.IsNullOrWhiteSpace(options.Redis))
                client.UseRedisClustering(o => o.ConfigurationOptions = ConfigurationOptions.Parse(options.Redis));
            else
                client.UseStaticClustering(options.GatewayEndPoints());
            client.AddMemoryStreams(Resources.AlertStreams.Provider);
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new KyrosPerfClient(sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<TimeProvider>(), options));
        return services;
    }
}
