using Kyros.Perf.Alerts;
using Kyros.Perf.Benchmarking;
using Kyros.Perf.Catalog;
using Kyros.Perf.Durability;
using Kyros.Perf.Gateway;
using Kyros.Perf.History;
using Kyros.Perf.HostSampling;
using Kyros.Perf.Keys;
using Kyros.Perf.Resources;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Kyros.Perf.Tuning;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Common;

public static class KyrosGrainServices
{
    /// <summary>
    /// What the grains need on a silo: the catalog, the recent-record log (Redis when a connection is given,
    /// this process otherwise), the SQLite history store, and every setting bound and validated at start.
    /// </summary>
    public static IServiceCollection AddKyrosPerfGrains(this IServiceCollection services, IConfiguration configuration, ConfigurationOptions? redis)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddValidatedOptions<ModelCatalogOptions, ModelCatalogOptionsValidator>(configuration, ModelCatalogOptions.Section);
        services.AddSingleton<IPostConfigureOptions<ModelCatalogOptions>, DefaultCatalogSetup>();
        services.AddValidatedOptions<HistoryOptions, HistoryOptionsValidator>(configuration, HistoryOptions.Section);
        services.AddValidatedOptions<ModelStatsOptions, ModelStatsOptionsValidator>(configuration, ModelStatsOptions.Section);
        services.AddValidatedOptions<RecentRecordLogOptions, RecentRecordLogOptionsValidator>(configuration, RecentRecordLogOptions.Section);
        services.AddValidatedOptions<RedisDurabilityOptions, RedisDurabilityOptionsValidator>(configuration, RedisDurabilityOptions.Section);

        services.AddValidatedOptions<RoutingOptions, RoutingOptionsValidator>(configuration, RoutingOptions.Section);
        services.AddSingleton<ModelCatalog>();
        services.AddVersionFollower<CatalogSync>();
        services.AddValidatedOptions<KeyDirectoryOptions, KeyDirectoryOptionsValidator>(configuration, KeyDirectoryOptions.Section);
        services.Configure<KeyDirectoryOptions>(o => o.ConfiguredNames.UnionWith(
            configuration.GetSection("Kyros:Auth:Keys").GetChildren().Select(k => k["Name"]).OfType<string>()));
        services.AddSingleton<ApiKeyRing>();
        services.AddVersionFollower<ApiKeySync>();
        services.AddSingleton(sp => new ModelHealthBook(sp.GetRequiredService<IOptions<RoutingOptions>>().Value));
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<RateLeaseRenewal>();
        services.AddHostedService(sp => sp.GetRequiredService<RateLeaseRenewal>());
        services.AddSingleton<RoutingSnapshot>();
        services.AddHostedService(sp => sp.GetRequiredService<RoutingSnapshot>());
        services.AddSingleton<RoutingEngine>();
        services.AddValidatedOptions<ResourceOptions, ResourceOptionsValidator>(configuration, ResourceOptions.Section);
        services.AddSingleton<InFlightRequests>();
        services.AddSingleton(sp => new GpuReader(sp.GetRequiredService<IOptions<ResourceOptions>>().Value.NvidiaSmiPath, sp.GetRequiredService<ILogger<GpuReader>>()));
        services.TryAddSingleton<IResourceSampler, HostResourceSampler>();
        services.AddPlacementDirector<HostAffinePlacement, HostAffinePlacementDirector>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, LocalHostSampling>();

        services.AddValidatedOptions<AlertOptions, AlertOptionsValidator>(configuration, AlertOptions.Section);
        services.AddSingleton<ModelAlertRuleBook>();
        services.AddVersionFollower<ModelAlertRulesSync>();
        services.AddValidatedOptions<NotificationOptions, NotificationOptionsValidator>(configuration, NotificationOptions.Section);
        services.AddSingleton<NotificationSender>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, NotificationOutboxWake>();

        services.AddValidatedOptions<TuningOptions, TuningOptionsValidator>(configuration, TuningOptions.Section);

        services.AddValidatedOptions<GatewayOptions, GatewayOptionsValidator>(configuration, GatewayOptions.Section);
        services.AddSingleton<ProviderConnections>();
        services.AddSingleton<ChatClients>();
        services.AddSingleton<GatewayRecorder>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayRecorder>());
        services.AddSingleton<RetryAndFallback>();
        services.AddSingleton<KeyCharges>();
        services.AddSingleton<ModelGateway>();
        services.AddValidatedOptions<ResponseCacheOptions, ResponseCacheOptionsValidator>(configuration, ResponseCacheOptions.Section);
        services.AddSingleton<ResponseCache>();
        services.AddSingleton<EmbeddingGenerators>();
        services.AddSingleton<EmbeddingGateway>();

        services.AddValidatedOptions<BenchmarkOptions, BenchmarkOptionsValidator>(configuration, BenchmarkOptions.Section);
        services.AddSingleton<IBenchmarkBackend, GatewayBenchmarkBackend>();
        services.AddSingleton<BenchmarkTrendsReader>();

        services.AddSingleton<SqliteHistoryStore>();
        services.AddHostedService(sp => sp.GetRequiredService<SqliteHistoryStore>());
        services.AddSingleton<ClusterHistory>();
        if (redis is null)
        {
            services.AddSingleton<IRecentRecordLog, InMemoryRecentRecordLog>();
            services.AddSingleton<IStoreEpoch, InProcessEpoch>();
            services.AddSingleton<IResponseCacheStore, InMemoryResponseCacheStore>();
        }
        else
        {
            services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(redis));
            services.AddSingleton<ReplicaAcks>();
            services.AddHostedService<ReplicaCheck>();
            services.AddSingleton<IRecentRecordLog, RedisRecentRecordLog>();
            services.AddSingleton<IResponseCacheStore, RedisResponseCacheStore>();
            services.AddHostedService<RedisPersistenceCheck>();
            // Redis losing its data: found by the epoch marker, repaired by each silo's IRedisLossRepair in registration
            // order (the silo registers the membership table's before this, the grains' state comes last).
            services.AddSingleton<RedisEpoch>();
            services.AddSingleton<IStoreEpoch>(sp => sp.GetRequiredService<RedisEpoch>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisEpoch>());
            services.AddSingleton<IRedisLossRepair, GrainWriteBack>();
        }
        return services;
    }

    public static IServiceCollection AddValidatedOptions<TOptions, TValidator>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TOptions>, TValidator>();
        return services;
    }
}

public sealed class RecentRecordLogOptionsValidator : IValidateOptions<RecentRecordLogOptions>
{
    public ValidateOptionsResult Validate(string? name, RecentRecordLogOptions options)
    {
        var errors = new List<string>();
        if (options.Retention < TimeSpan.FromMinutes(1) || options.Retention > TimeSpan.FromDays(7))
            errors.Add($"{RecentRecordLogOptions.Section}:Retention must be within 00:01:00..7.00:00:00.");
        if (string.IsNullOrWhiteSpace(options.KeyPrefix) || options.KeyPrefix.Contains('{') || options.KeyPrefix.Contains('}'))
            errors.Add($"{RecentRecordLogOptions.Section}:KeyPrefix must be non-empty and hold no braces.");
        if (options.MaxRecordsPerModel is < 1_000 or > 100_000_000)
            errors.Add($"{RecentRecordLogOptions.Section}:MaxRecordsPerModel must be within 1000..100000000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
