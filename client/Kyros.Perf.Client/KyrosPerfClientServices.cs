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
        services.AddKyrosPerfClient(o => o.Bind(configuration));

    /// <summary>How often the client reads which gateways are active (the silos' membership table refreshes as often).</summary>
    public static readonly TimeSpan GatewayListRefreshPeriod = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddKyrosPerfClient(this IServiceCollection services, Action<KyrosPerfClientOptions> configure)
    {
        var options = new KyrosPerfClientOptions();
        configure(options);
        options.Validate();
        var tls = options.LoadTls();
        services.AddOrleansClient(client =>
        {
            if (tls is not null) client.UseTls(tls.Apply);
            client.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = options.ServiceId;
                o.ClusterId = options.ClusterId;
            });
            // Orleans reads the gateway list once a minute by default: a silo cut off the network (not refused, its calls
            // time out) would take the client's calls for up to that long after the cluster declared it dead (about 9 s).
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = GatewayListRefreshPeriod);
            if (!string.IsNullOrWhiteSpace(options.Redis))
                client.UseRedisClustering(o => o.ConfigurationOptions = options.RedisConfiguration());
            else
                client.UseStaticClustering(options.GatewayEndPoints());
            client.AddMemoryStreams(Resources.AlertStreams.Provider);
        });
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new KyrosPerfClient(sp.GetRequiredService<IClusterClient>(), sp.GetRequiredService<TimeProvider>(), options));
        return services;
    }
}
