using System.Net;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo;

/// <summary>The silo's own settings (configuration section <c>Kyros</c>, or <c>Kyros__*</c> in the environment).</summary>
public sealed class KyrosSiloOptions
{
    public const string Section = "Kyros";

    /// <summary>A StackExchange.Redis connection string. Set: Redis clustering and grain state. Unset: one embedded silo.</summary>
    public string? Redis { get; set; }

    public string ServiceId { get; set; } = "kyros-perf";
    public string ClusterId { get; set; } = "kyros-perf";

    /// <summary>This silo's name in the cluster and the dashboard; by default the machine's name.</summary>
    public string HostName { get; set; } = Environment.MachineName;

    /// <summary>The address silos and clients reach this silo on.</summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Where the HTTP API and the dashboard listen.</summary>
    public string HttpUrl { get; set; } = "http://127.0.0.1:5080";

    public bool Dashboard { get; set; } = true;

    /// <summary>The dashboard's live log stream (its Trace page): every silo's log, grain calls included, to whoever opens it. Off unless asked for.</summary>
    public bool DashboardTrace { get; set; }

    /// <summary>HTTP connections the silo holds open at once; one more is closed at once.</summary>
    public int MaxHttpConnections { get; set; } = 10_000;

    /// <summary>Simulated traffic through the gateway and two simulated hosts, for a first look (<see cref="Demo.DemoService"/>).</summary>
    public bool Demo { get; set; }

    /// <summary>
    /// The longest a request waits for Redis before it gets its 503: Redis operations time out after it, unless the
    /// connection string sets <c>asyncTimeout</c> or <c>syncTimeout</c> itself. Short, so that a hung Redis does not
    /// hold callers for the whole outage; long enough for a busy Redis on a LAN.
    /// </summary>
    public TimeSpan StoreTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a silo told to stop (SIGTERM) takes at most to leave: stop taking HTTP and finish what is in flight,
    /// write the gateway's queued records, hand its grains off and leave the cluster.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Mutual TLS on Orleans' silo and gateway ports (<c>Kyros:Tls</c>): see <see cref="UsesTls"/>.</summary>
    public Client.KyrosTlsOptions Tls { get; set; } = new();

    /// <summary>TLS to Redis (<c>Kyros:Redis:Tls</c>, <c>Kyros:Redis:CaPath</c>), bound by <see cref="KyrosSiloHost.ReadOptions"/> beside the connection string.</summary>
    public Client.RedisTlsOptions RedisTls { get; set; } = new();

    public bool UsesRedis => !string.IsNullOrWhiteSpace(Redis);

    /// <summary>
    /// No one beyond this machine reaches Orleans' ports: the embedded silo (localhost clustering), or a cluster whose
    /// silos advertise a loopback address (several silos on one host, as the tests and deploy/local-cluster.sh run them).
    /// </summary>
    public bool OrleansOnLoopbackOnly => !UsesRedis || (IPAddress.TryParse(AdvertisedAddress, out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// TLS is on whenever Orleans' ports are reachable from other machines, unless <c>Kyros:Tls:Enabled=false</c> says
    /// otherwise; on loopback only it is off unless <c>Kyros:Tls:Enabled=true</c>.
    /// </summary>
    public bool UsesTls => Tls.Enabled ?? !OrleansOnLoopbackOnly;

    /// <summary>The Redis connection as the silo uses it everywhere: <see cref="Redis"/> with <see cref="StoreTimeout"/> applied.</summary>
    public StackExchange.Redis.ConfigurationOptions RedisConfiguration()
    {
        var configuration = StackExchange.Redis.ConfigurationOptions.Parse(Redis!);
        var timeout = (int)StoreTimeout.TotalMilliseconds;
        if (!Redis!.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase)) configuration.AsyncTimeout = timeout;
        if (!Redis.Contains("syncTimeout", StringComparison.OrdinalIgnoreCase)) configuration.SyncTimeout = timeout;
        RedisTls.ApplyTo(configuration);
        return configuration;
    }
}

public sealed class KyrosSiloOptionsValidator : IValidateOptions<KyrosSiloOptions>
{
    public ValidateOptionsResult Validate(string? name, KyrosSiloOptions o)
    {
        var errors = new List<string>();
        if (o.UsesRedis)
        {
            try
            {
                StackExchange.Redis.ConfigurationOptions.Parse(o.Redis!);
            }
            catch (ArgumentException)
            {
                // The message could echo a password, so it is not repeated.
                errors.Add("Kyros:Redis is not a valid Redis connection string.");
            }
        }
        if (o.StoreTimeout < TimeSpan.FromMilliseconds(100) || o.StoreTimeout > TimeSpan.FromMinutes(1))
            errors.Add($"Kyros:StoreTimeout must be within 00:00:00.1..00:01:00; got {o.StoreTimeout}.");
        if (o.ShutdownTimeout < TimeSpan.FromSeconds(1) || o.ShutdownTimeout > TimeSpan.FromMinutes(10))
            errors.Add($"Kyros:ShutdownTimeout must be within 00:00:01..00:10:00; got {o.ShutdownTimeout}.");
        if (string.IsNullOrWhiteSpace(o.ServiceId)) errors.Add("Kyros:ServiceId must not be empty.");
        if (string.IsNullOrWhiteSpace(o.ClusterId)) errors.Add("Kyros:ClusterId must not be empty.");
        if (string.IsNullOrWhiteSpace(o.HostName)) errors.Add("Kyros:HostName must not be empty.");
        if (!IPAddress.TryParse(o.AdvertisedAddress, out _)) errors.Add($"Kyros:AdvertisedAddress '{o.AdvertisedAddress}' is not an IP address.");
        if (o.SiloPort is < 1 or > 65535) errors.Add($"Kyros:SiloPort {o.SiloPort} is not a port (1-65535).");
        if (o.GatewayPort is < 1 or > 65535) errors.Add($"Kyros:GatewayPort {o.GatewayPort} is not a port (1-65535).");
        if (o.SiloPort == o.GatewayPort) errors.Add("Kyros:SiloPort and Kyros:GatewayPort must differ.");
        if (o.MaxHttpConnections is < 1 or > 1_000_000) errors.Add($"Kyros:MaxHttpConnections must be within 1..1000000; got {o.MaxHttpConnections}.");
        if (!Uri.TryCreate(o.HttpUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            errors.Add($"Kyros:HttpUrl '{o.HttpUrl}' is not an http(s) URL.");
        errors.AddRange(o.Tls.Validate(o.UsesTls));
        if (o.UsesRedis) errors.AddRange(o.RedisTls.Validate());
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
