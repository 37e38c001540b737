using System.Net;
using Microsoft.Extensions.Configuration;

namespace Kyros.Perf.Client;

/// <summary>How the SDK finds the cluster (configuration section <c>Kyros</c>, as on the silo).</summary>
public sealed class KyrosPerfClientOptions
{
    public const string Section = "Kyros";

    /// <summary>Redis connection string: find the silos through Redis clustering, as the silos do.</summary>
    public string? Redis { get; set; }

    /// <summary>Without Redis: the silos' gateways as <c>host:port</c>; empty means <c>127.0.0.1:30000</c>.</summary>
    public List<string> Gateways { get; set; } = [];

    public string ServiceId { get; set; } = "kyros-perf";
    public string ClusterId { get; set; } = "kyros-perf";

    /// <summary>
    /// Calls to the router at once before further <c>RouteAsync</c> calls wait and go together, in one call per batch
    /// (see <see cref="KyrosPerfClient.RouteAsync"/>); 0 sends every decision alone.
    /// </summary>
    public int RoutingCallsInFlight { get; set; } = 4;

    /// <summary>The most decisions one coalesced call carries.</summary>
    public int RoutingBatchSize { get; set; } = 64;

    /// <summary>
    /// How long an idempotent call (records, which carry request ids; reads; routing decisions) is tried again while the
    /// cluster answers with a fault that passes (a silo died, a store hung), before <see cref="Common.KyrosUnavailableException"/>
    /// reaches the caller. A silo's failover takes under 5 s with the shipped membership settings. Zero: never retried.
    /// </summary>
    public TimeSpan RetryDeadline { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// How long one try of an idempotent call may take before it is given up and tried again: a call already on its way
    /// to a silo that dies gets no answer until Orleans' response timeout (30 s), long after the grain serves again elsewhere.
    /// A try given up may still have been written: a retried record call then reports those records as duplicates, so
    /// <c>Recorded + Duplicates</c> is what is stored of its batch.
    /// </summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The client's certificate and the cluster's CA (<c>Kyros:Tls</c>, as on the silo), for a cluster whose gateways
    /// require mutual TLS. On when a certificate is given, unless <c>Kyros:Tls:Enabled=false</c>.
    /// </summary>
    public KyrosTlsOptions Tls { get; set; } = new();

    /// <summary>TLS to Redis (<c>Kyros:Redis:Tls</c>, <c>Kyros:Redis:CaPath</c>), as on the silo.</summary>
    public RedisTlsOptions RedisTls { get; set; } = new();

    /// <summary>
    /// Binds the <c>Kyros</c> section, and the Redis settings beside the connection string <c>Kyros:Redis</c>, which the
    /// binder cannot put under a string.
    /// </summary>
    public void Bind(IConfiguration configuration)
    {
        configuration.GetSection(Section).Bind(this);
        configuration.GetSection(RedisTlsOptions.Section).Bind(RedisTls);
    }

    /// <summary>The Redis connection the client finds the silos through, with <see cref="RedisTls"/> applied.</summary>
    internal StackExchange.Redis.ConfigurationOptions RedisConfiguration()
    {
        var redis = StackExchange.Redis.ConfigurationOptions.Parse(Redis!);
        RedisTls.ApplyTo(redis);
        return redis;
    }

    internal bool UsesTls => Tls.Enabled ?? !string.IsNullOrWhiteSpace(Tls.CertificatePath);

    /// <summary>The certificate and CA loaded, when <see cref="UsesTls"/>; a setting that is wrong throws naming it.</summary>
    internal KyrosTls? LoadTls()
    {
        if (!UsesTls) return null;
        var failures = Tls.Validate(enabled: true).ToList();
        var tls = failures.Count == 0 ? KyrosTls.Load(Tls, failures) : null;
        return tls ?? throw new ArgumentException(string.Join(" ", failures), nameof(Tls));
    }

    internal void Validate()
    {
        if (RoutingCallsInFlight is < 0 or > 1_000)
            throw new ArgumentException($"Kyros:RoutingCallsInFlight must be within 0..1000; got {RoutingCallsInFlight}.", nameof(RoutingCallsInFlight));
        if (RoutingBatchSize is < 1 or > Routing.RoutingValidator.MaxBatch)
            throw new ArgumentException($"Kyros:RoutingBatchSize must be within 1..{Routing.RoutingValidator.MaxBatch}; got {RoutingBatchSize}.", nameof(RoutingBatchSize));
        if (RetryDeadline < TimeSpan.Zero || RetryDeadline > TimeSpan.FromMinutes(5))
            throw new ArgumentException($"Kyros:RetryDeadline must be within 00:00:00..00:05:00; got {RetryDeadline}.", nameof(RetryDeadline));
        if (AttemptTimeout < TimeSpan.FromMilliseconds(100) || AttemptTimeout > TimeSpan.FromMinutes(5))
            throw new ArgumentException($"Kyros:AttemptTimeout must be within 00:00:00.1..00:05:00; got {AttemptTimeout}.", nameof(AttemptTimeout));
        if (string.IsNullOrWhiteSpace(Redis)) GatewayEndPoints();
        if (RedisTls.Validate().FirstOrDefault() is { } redisTls) throw new ArgumentException(redisTls, nameof(RedisTls));
    }

    internal IPEndPoint[] GatewayEndPoints()
    {
        if (Gateways.Count == 0) return [new IPEndPoint(IPAddress.Loopback, 30000)];
        return Gateways.Select(g => IPEndPoint.TryParse(g, out var endpoint) && endpoint.Port != 0
            ? endpoint
            : throw new ArgumentException($"Kyros:Gateways entry '{g}' is not host:port with an IP address.", nameof(Gateways))).ToArray();
    }
}
