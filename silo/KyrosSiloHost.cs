using System.Net;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Kyros.Perf.Silo.Durability;
using Kyros.Perf.HostSampling;
using Kyros.Perf.Silo.Api;
using Kyros.Perf.Silo.Auth;
using Kyros.Perf.Silo.Otlp;
using Kyros.Perf.Silo.Telemetry;
using Kyros.Perf.Silo.Ui;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Storage;
using Scalar.AspNetCore;
using StackExchange.Redis;

namespace Kyros.Perf.Silo;

/// <summary>Builds the silo process: Orleans, the HTTP API and the dashboard in one host.</summary>
public static class KyrosSiloHost
{
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        var options = ReadOptions(builder.Configuration);
        var tls = LoadTls(options);

        // OTLP/HTTP's own address, when set (the conventional :4318), serves /v1/traces alone.
        var otlpUrl = builder.Configuration[$"{OtlpOptions.Section}:HttpUrl"];
        string[] urls = otlpUrl is { Length: > 0 } ? [options.HttpUrl, otlpUrl] : [options.HttpUrl];
        builder.WebHost.UseUrls(urls);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = PerformanceEndpoints.MaxBodyBytes;
            // Each open connection costs memory: a flood of idle ones must not take the silo down.
            k.Limits.MaxConcurrentConnections = options.MaxHttpConnections;
            k.Limits.MaxConcurrentUpgradedConnections = options.MaxHttpConnections;
        });
        builder.Services.AddSingleton(Options.Create(options));
        // SIGTERM: Kestrel stops taking requests and finishes those in flight, then the product's services (the gateway's
        // queued records are written), then the silo hands its grains off and leaves; all within this time.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.ConfigureHttpJsonOptions(json => KyrosJson.Configure(json.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        builder.Services.AddApiDocument();
        builder.Services.AddValidatedOptions<OtlpOptions, OtlpOptionsValidator>(builder.Configuration, OtlpOptions.Section);
        var auth = builder.Services.AddApiKeys(builder.Configuration, urls);
        builder.Services.AddSingleton<GenAiSpanMapper>();
        var telemetry = builder.AddKyrosTelemetry(options.HostName);
        builder.UseOrleans(silo => ConfigureSilo(silo, options, tls, builder.Configuration, telemetry));
        // The SDK over the silo's own cluster client: the alert feed's subscription and the demo's traffic.
        builder.Services.AddSingleton(services => new Client.KyrosPerfClient(services.GetRequiredService<IClusterClient>(), TimeProvider.System));
        // After Orleans, so that it stops first and gives its stream subscription back while the silo still runs.
        builder.Services.AddSingleton<AlertFeed>().AddHostedService(services => services.GetRequiredService<AlertFeed>());
        if (options.Demo) builder.Services.AddSingleton(Demo.DemoService.ReadSettings(builder.Configuration)).AddHostedService<Demo.DemoService>();

        var app = builder.Build();
        LogTransport(app.Logger, options, tls);
        app.UseExceptionHandler();
        var inFlight = app.Services.GetRequiredService<InFlightRequests>();
        app.Use(async (context, next) =>
        {
            inFlight.Enter();
            try
            {
                await next(context);
            }
            finally
            {
                inFlight.Leave();
            }
        });
        app.UseApiKeys(auth, urls);
        if (otlpUrl is { Length: > 0 } && Uri.TryCreate(otlpUrl, UriKind.Absolute, out var otlp))
            app.Use((context, next) => context.Connection.LocalPort == otlp.Port && !context.Request.Path.Equals(TracesEndpoint.Path)
                ? Results.NotFound().ExecuteAsync(context)
                : next(context));
        app.UseStatusCodePages();
        if (options.Dashboard) app.UseDashboardLinkBack("/dashboard");
        app.MapHealthEndpoints();
        app.MapSignIn();
        app.MapOpenApi(ApiDocument.Path);
        // The API reference page; its script ships inside the package (no fetch from a CDN).
        app.MapScalarApiReference(ApiDocument.ReferencePath, o => o.WithTitle("Kyros.Perf API").WithOpenApiRoutePattern(ApiDocument.Path)).ExcludeFromDescription();
        app.MapPerformanceEndpoints();
        app.MapCatalogEndpoints();
        app.MapKeyEndpoints();
        app.MapTracesEndpoint();
        app.MapMetricsEndpoint();
        app.MapRoutingEndpoints();
        app.MapResourceEndpoints();
        app.MapAlertEndpoints();
        app.MapGatewayEndpoints();
        app.MapTuningEndpoints();
        app.MapBenchmarkEndpoints();
        app.MapProductPages();
        // The dashboard shows grain state and the silo's live log: an operator's view, for admin keys only.
        if (options.Dashboard) app.MapOrleansDashboard("/dashboard").RequireScope(Scopes.Admin);
        var site = options.HttpUrl.TrimEnd('/');
        app.Lifetime.ApplicationStarted.Register(() => app.Logger.LogInformation(
            "Kyros.Perf is up: pages {Site}/ui, API reference {Site}/docs/api{Dashboard}", site, site, options.Dashboard ? $", Orleans dashboard {site}/dashboard" : ""));
        return app;
    }

    /// <summary>Asks this machine's silo (its <c>Kyros:HttpUrl</c>, on loopback when it listens on any address) whether it is healthy: 0 when it is, 1 otherwise.</summary>
    public static async Task<int> CheckHealthAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder().AddJsonFile("appsettings.json", optional: true).AddEnvironmentVariables().AddCommandLine(args).Build();
        var url = new UriBuilder(ReadOptions(configuration).HttpUrl);
        if (url.Host is "0.0.0.0" or "[::]" or "+" or "*") url.Host = "127.0.0.1";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        try
        {
            using var response = await http.GetAsync(new Uri(url.Uri, "/healthz"));
            Console.WriteLine($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
        {
            Console.WriteLine($"unreachable: {exception.Message}");
            return 1;
        }
    }

    /// <summary>Binds and validates the <c>Kyros</c> section; a bad setting throws naming it.</summary>
    public static KyrosSiloOptions ReadOptions(IConfiguration configuration)
    {
        var options = new KyrosSiloOptions();
        configuration.GetSection(KyrosSiloOptions.Section).Bind(options);
        // Kyros:Redis is a connection string with settings of its own beside it (Kyros:Redis:Tls, :CaPath, :ReplicaAcks).
        configuration.GetSection(RedisTlsOptions.Section).Bind(options.RedisTls);
        var failures = new KyrosSiloOptionsValidator().Validate(null, options).Failures?.ToList() ?? [];
        // A WAIT for replicas longer than the store's own timeout would be cut by it, and a records write would answer
        // its 503 before the replicas had their time.
        var durability = configuration.GetSection(RedisDurabilityOptions.Section).Get<RedisDurabilityOptions>() ?? new();
        if (options.UsesRedis && durability.ReplicaAcks > 0 && durability.ReplicaAckTimeout >= options.StoreTimeout)
            failures.Add($"{RedisDurabilityOptions.Section}:ReplicaAckTimeout ({durability.ReplicaAckTimeout}) must be shorter than Kyros:StoreTimeout ({options.StoreTimeout}).");
        if (failures.Count > 0) throw new OptionsValidationException(KyrosSiloOptions.Section, typeof(KyrosSiloOptions), failures);
        return options;
    }

    /// <summary>The certificate and CA of <c>Kyros:Tls</c> when TLS is on (<see cref="KyrosSiloOptions.UsesTls"/>); a file that cannot be read throws naming its setting.</summary>
    public static KyrosTls? LoadTls(KyrosSiloOptions options)
    {
        if (!options.UsesTls) return null;
        var failures = new List<string>();
        return KyrosTls.Load(options.Tls, failures) ?? throw new OptionsValidationException(KyrosTlsOptions.Section, typeof(KyrosTlsOptions), failures);
    }

    /// <summary>What protects Orleans' ports, once at start: the files in use (paths only), or a warning when nothing does beyond loopback.</summary>
    private static void LogTransport(ILogger logger, KyrosSiloOptions options, KyrosTls? tls)
    {
        if (tls is not null)
            logger.LogInformation("Orleans transport: mutual TLS with certificate {CertificatePath} ({Subject}, until {NotAfter:u}), remote certificates must chain to {CaPath}",
                tls.CertificatePath, tls.Certificate.Subject, tls.Certificate.NotAfter.ToUniversalTime(), tls.CaPath);
        else if (!options.OrleansOnLoopbackOnly)
            logger.LogWarning("Kyros:Tls:Enabled=false: Orleans' silo port {SiloPort} and gateway port {GatewayPort} on {Address} take unencrypted connections from anyone who reaches them",
                options.SiloPort, options.GatewayPort, options.AdvertisedAddress);
    }

    /// <summary>Clustering and the product: Redis clustering when Redis is set, one localhost silo otherwise; mutual TLS when <paramref name="tls"/> is given.</summary>
    public static void ConfigureSilo(ISiloBuilder silo, KyrosSiloOptions options, KyrosTls? tls, IConfiguration configuration, TelemetryOptions telemetry)
    {
        // Silo to silo and client to gateway, both ways authenticated by the one CA.
        if (tls is not null) silo.UseTls(tls.Apply);
        silo.Configure<SiloOptions>(o => o.SiloName = options.HostName);
        silo.Configure<ClusterMembershipOptions>(LanMembership);
        silo.Configure<ClusterMembershipOptions>(configuration.GetSection("Kyros:Membership"));
        if (options.UsesRedis)
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = options.ServiceId;
                o.ClusterId = options.ClusterId;
            });
            silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedAddress), options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: false);
            silo.UseRedisClustering(o => o.ConfigurationOptions = options.RedisConfiguration());
            // First of the repairs after Redis lost its data: before grains write back, the cluster can tell a dead silo again.
            silo.Services.AddSingleton<IRedisLossRepair, MembershipRebuild>();
        }
        else
        {
            silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
        }
        AddKyrosPerf(silo, options, configuration);
        // Grain calls carry the trace (and become spans) only when traces are exported: otherwise no filter runs per call.
        if (telemetry.Tracing) silo.AddActivityPropagation();
        if (options.Dashboard) silo.AddDashboard(dashboard => dashboard.HideTrace = !options.DashboardTrace);
        // In a Kubernetes pod: the silo's name, address and cluster identity come from the pod, and silos whose pods are
        // gone are marked dead. It throws anywhere else, so only there.
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"))) silo.UseKubernetesHosting();
    }

    /// <summary>
    /// Membership tuned for silos on one LAN, so that a killed silo's grains serve again from the others within 5 s:
    /// a silo that misses two 1 s probes is suspected, and declared dead on the votes of two others (or all others, in a
    /// smaller cluster). The price: a silo that stalls for over 2 s (a long GC pause, a starved CPU) is declared dead and
    /// restarts. Across slower links raise <c>Kyros:Membership:ProbeTimeout</c>; Orleans' own default is 5 s.
    /// </summary>
    public static void LanMembership(ClusterMembershipOptions membership)
    {
        membership.ProbeTimeout = TimeSpan.FromSeconds(1);
        membership.NumMissedProbesLimit = 2;
        // A silo cut off and declared dead finds out at its next read of the table and stops: within seconds of being
        // back, rather than Orleans' default minute, in which it would serve as a zombie.
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(5);
    }

    /// <summary>Grains, their services and grain storage, on any cluster (the test clusters bring their own membership).</summary>
    public static void AddKyrosPerf(ISiloBuilder silo, KyrosSiloOptions options, IConfiguration configuration)
    {
        silo.Services.AddKyrosPerfGrains(configuration, options.UsesRedis ? options.RedisConfiguration() : null);
        silo.AddIncomingGrainCallFilter<StoreFaultFilter>();
        if (options.UsesRedis)
        {
            // Orleans' Redis storage under names of its own; the grains use it through EpochAwareGrainStorage, which
            // stores a state again after Redis lost its data (the names are not in the keys).
            silo.AddRedisGrainStorage(RedisStorageOf(KyrosStorage.Name), o =>
            {
                o.ConfigurationOptions = options.RedisConfiguration();
                // A removed model's purged checkpoint leaves no key behind.
                o.DeleteStateOnClear = true;
            });
            silo.AddRedisGrainStorage(RedisStorageOf("PubSubStore"), o => o.ConfigurationOptions = options.RedisConfiguration());
            foreach (var name in new[] { KyrosStorage.Name, "PubSubStore" })
                silo.Services.AddKeyedSingleton<IGrainStorage>(name, (services, _) =>
                    new EpochAwareGrainStorage(services.GetRequiredKeyedService<IGrainStorage>(RedisStorageOf(name)), services.GetRequiredService<RedisEpoch>()));
        }
        else
        {
            silo.AddMemoryGrainStorage(KyrosStorage.Name);
            silo.AddMemoryGrainStorage("PubSubStore");
        }
        // Alert events: every silo and every client that subscribes adds the same provider.
        silo.AddMemoryStreams(Resources.AlertStreams.Provider);
    }

    private static string RedisStorageOf(string name) => $"{name}-redis";
}
