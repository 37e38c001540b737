using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using Kyros.Perf.Client;
using Kyros.Perf.Silo;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Connections.Security;

namespace Kyros.Perf.Tests.Security;

/// <summary>Two silo processes on Redis membership whose silo and gateway ports require certificates from the cluster's CA.</summary>
public sealed class TlsCluster(RedisServer redis) : IAsyncLifetime
{
    public TestCertificateAuthority Authority { get; } = new("kyros-ca");
    public TestCertificateAuthority OtherAuthority { get; } = new("other-ca");
    public string ServiceId { get; } = $"tls-{Guid.NewGuid():N}"[..16];
    public string Redis => redis.ConnectionString;
    public IReadOnlyList<SiloProcess> Silos { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        var data = Directory.CreateTempSubdirectory("kyros-tls-silos-").FullName;
        var (certificate, key) = Authority.Issue("silo");
        // On loopback TLS is off unless said: these silos say so.
        string[] tls = ["--Kyros:Tls:Enabled=true", $"--Kyros:Tls:CertificatePath={certificate}", $"--Kyros:Tls:KeyPath={key}", $"--Kyros:Tls:CaPath={Authority.CaPath}"];
        Silos = await Task.WhenAll(
            SiloProcess.StartAsync(Redis, ServiceId, "tls-a", data, tls),
            SiloProcess.StartAsync(Redis, ServiceId, "tls-b", data, tls));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos) await silo.DisposeAsync();
        Authority.Dispose();
        OtherAuthority.Dispose();
    }
}

public sealed class OrleansTlsTests(TlsCluster cluster, RedisServer redis) : IClassFixture<TlsCluster>
{
    /// <summary>How long a refused client may take to find out: Orleans' TLS handshake gives up after 10 s.</summary>
    private static readonly TimeSpan RefusalBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A refused client's first attempt is its answer: Orleans' default filter would try again for minutes (15 times,
    /// 1.5 s more each time), as for a gateway not up yet.
    /// </summary>
    private sealed class NoConnectionRetry : IClientConnectionRetryFilter
    {
        public Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken) => Task.FromResult(false);
    }

    private static void FirstAttemptOnly(IServiceCollection services) => services.AddSingleton<IClientConnectionRetryFilter, NoConnectionRetry>();

    [Fact]
    public async Task Silos_with_certificates_from_the_CA_form_one_cluster_and_a_client_with_one_calls_its_grains()
    {
        var (certificate, key) = cluster.Authority.Issue("client");
        using var host = await ClientHost.StartAsync(o =>
        {
            Cluster(o);
            o.Tls = new KyrosTlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = cluster.Authority.CaPath };
        });
        // Both silos are active members: each probed the other over TLS.
        var hosts = await host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, hosts.Count);
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        Assert.Equal(1, (await client.RecordAsync(Records.Valid("gpt-4", 1.5))).Recorded);
        Assert.Equal(1, (await client.GetSummaryAsync("gpt-4", TimeSpan.FromHours(1))).Count);
        await host.StopAsync();
    }

    [Fact]
    public async Task The_cli_connects_with_its_certificate()
    {
        var (certificate, key) = cluster.Authority.Issue("cli");
        // The certificate from its options, the CA (as any setting) from the environment.
        var environment = new Dictionary<string, string>
        {
            ["Kyros__ServiceId"] = cluster.ServiceId,
            ["Kyros__ClusterId"] = cluster.ServiceId,
            ["Kyros__Tls__CaPath"] = cluster.Authority.CaPath,
        };
        var summary = await CliProcess.RunAsync(environment, cluster.Silos[1].GatewayPort, "summary", "--window", "5m", "--tls-cert", certificate, "--tls-key", key);
        Assert.True(summary.ExitCode == 0, summary.Output);
        Assert.Contains("cluster", summary.Output);
    }

    [Fact]
    public async Task A_client_without_a_certificate_is_refused()
    {
        // The SDK with no TLS at all: its plain handshake is not TLS.
        await AssertRefusedAsync(() => ClientHost.StartAsync(Cluster, FirstAttemptOnly));
        // TLS that trusts the silos but shows no certificate of its own.
        await AssertRefusedAsync(async () =>
        {
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.None);
            FirstAttemptOnly(builder.Services);
            builder.Services.AddOrleansClient(client =>
            {
                client.Configure<ClusterOptions>(o => (o.ServiceId, o.ClusterId) = (cluster.ServiceId, cluster.ServiceId));
                client.UseRedisClustering(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(cluster.Redis));
                client.UseTls(tls =>
                {
                    tls.ClientCertificateMode = RemoteCertificateMode.AllowCertificate;
                    tls.AllowAnyRemoteCertificate();
                });
            });
            var host = builder.Build();
            try
            {
                await host.StartAsync();
                return host;
            }
            catch
            {
                host.Dispose();
                throw;
            }
        });
    }

    [Fact]
    public async Task A_client_with_a_certificate_from_another_CA_is_refused()
    {
        var (certificate, key) = cluster.OtherAuthority.Issue("intruder");
        // It even trusts the cluster's CA: the silos are the ones that refuse it.
        await AssertRefusedAsync(() => ClientHost.StartAsync(o =>
        {
            Cluster(o);
            o.Tls = new KyrosTlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = cluster.Authority.CaPath };
        }, FirstAttemptOnly));
    }

    [Fact]
    public async Task A_silo_beyond_loopback_without_certificates_refuses_to_start_naming_the_setting()
    {
        var data = Directory.CreateTempSubdirectory("kyros-tls-refused-").FullName;
        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            SiloProcess.StartAsync(redis.ConnectionString, $"tls-{Guid.NewGuid():N}"[..16], "tls-refused", data, "--Kyros:AdvertisedAddress=10.0.0.5"));
        Assert.Contains("exited with 2", refused.Message);
        Assert.Contains("Kyros:Tls:CertificatePath is not set", refused.Message);

        string[] exposed = [$"--Kyros:Redis={redis.ConnectionString}", "--Kyros:AdvertisedAddress=10.0.0.5", $"--Kyros:HttpUrl=http://127.0.0.1:{FreePort.Next()}"];
        var missing = Assert.Throws<OptionsValidationException>(() => KyrosSiloHost.Build(exposed));
        Assert.Contains(missing.Failures, f => f.StartsWith("Kyros:Tls:CertificatePath is not set", StringComparison.Ordinal));
        Assert.Contains(missing.Failures, f => f.StartsWith("Kyros:Tls:CaPath is not set", StringComparison.Ordinal));
        // Said explicitly, it starts without (and warns).
        await (KyrosSiloHost.Build([.. exposed, "--Kyros:Tls:Enabled=false"])).DisposeAsync();
        // Loopback and the embedded silo need none.
        Assert.False(new KyrosSiloOptions().UsesTls);
        Assert.False(new KyrosSiloOptions { Redis = redis.ConnectionString }.UsesTls);
        Assert.True(new KyrosSiloOptions { AdvertisedAddress = "10.0.0.5" }.OrleansOnLoopbackOnly);

        // Files that are not what their setting says are named, the password never.
        var garbage = Path.Combine(data, "garbage.pem");
        File.WriteAllText(garbage, "not a certificate");
        var unreadable = Assert.Throws<OptionsValidationException>(() => KyrosSiloHost.Build(
            [.. exposed, $"--Kyros:Tls:CertificatePath={garbage}", $"--Kyros:Tls:KeyPath={garbage}", $"--Kyros:Tls:CaPath={garbage}", "--Kyros:Tls:CertificatePassword=hunter2-secret"]));
        Assert.Contains(unreadable.Failures, f => f.StartsWith($"Kyros:Tls:CertificatePath '{garbage}' and Kyros:Tls:KeyPath", StringComparison.Ordinal));
        Assert.Contains(unreadable.Failures, f => f.StartsWith($"Kyros:Tls:CaPath '{garbage}' holds no PEM certificate", StringComparison.Ordinal));
        Assert.DoesNotContain(unreadable.Failures, f => f.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void A_certificate_is_trusted_only_when_it_chains_to_the_configured_CA_not_the_system_store()
    {
        var (certificate, key) = cluster.Authority.Issue("member");
        var (stranger, strangerKey) = cluster.OtherAuthority.Issue("stranger");
        var failures = new List<string>();
        var tls = KyrosTls.Load(new KyrosTlsOptions { CertificatePath = certificate, KeyPath = key, CaPath = cluster.Authority.CaPath }, failures);
        Assert.Empty(failures);
        Assert.True(tls!.Certificate.HasPrivateKey);
        Assert.True(tls.ChainsToAuthority(X509CertificateLoader.LoadCertificateFromFile(certificate)));
        Assert.False(tls.ChainsToAuthority(X509CertificateLoader.LoadCertificateFromFile(stranger)));
        // A PFX works as well as PEM.
        var pfx = Path.Combine(cluster.OtherAuthority.Directory, "stranger.pfx");
        using (var pem = X509Certificate2.CreateFromPemFile(stranger, strangerKey)) File.WriteAllBytes(pfx, pem.Export(X509ContentType.Pkcs12, "pfx-password"));
        var fromPfx = KyrosTls.Load(new KyrosTlsOptions { CertificatePath = pfx, CertificatePassword = "pfx-password", CaPath = cluster.OtherAuthority.CaPath }, failures);
        Assert.Empty(failures);
        Assert.True(fromPfx!.ChainsToAuthority(fromPfx.Certificate));
    }

    [Fact]
    public async Task A_silo_works_on_a_redis_that_takes_only_tls_trusting_its_CA_alone()
    {
        var (certificate, key) = cluster.Authority.Issue("redis", System.Net.IPAddress.Loopback);
        await using var tlsRedis = RedisServer.WithTls(certificate, key, cluster.Authority.CaPath);
        await tlsRedis.InitializeAsync();
        // The silo's own connection: Redis' name and chain checked, against the CA.
        var trusted = new KyrosSiloOptions { Redis = tlsRedis.ConnectionString, RedisTls = { CaPath = cluster.Authority.CaPath } }.RedisConfiguration();
        Assert.True(trusted.Ssl);
        using (var connection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(trusted))
            Assert.True(await connection.GetDatabase().PingAsync() < TimeSpan.FromSeconds(5));
        // TLS without the CA: the system store does not trust it.
        var untrusted = new KyrosSiloOptions { Redis = tlsRedis.ConnectionString, RedisTls = { Tls = true } }.RedisConfiguration();
        untrusted.ConnectTimeout = 3_000;
        await Assert.ThrowsAsync<StackExchange.Redis.RedisConnectionException>(() => StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(untrusted));

        // A whole silo on it: membership, grain state and the record log over TLS (healthy means all answer).
        var data = Directory.CreateTempSubdirectory("kyros-tls-redis-").FullName;
        await using var silo = await SiloProcess.StartAsync(tlsRedis.ConnectionString, $"tlsr-{Guid.NewGuid():N}"[..16], "tls-redis", data, $"--Kyros:Redis:CaPath={cluster.Authority.CaPath}");
        using var http = new HttpClient { BaseAddress = new Uri(silo.HttpUrl) };
        var recorded = await http.PostAsJsonAsync("/v1/performance/records", new { model = "gpt-4", execution_time = 1.0, request_id = $"tls-redis-{Guid.NewGuid():N}" });
        Assert.True(recorded.IsSuccessStatusCode, await recorded.Content.ReadAsStringAsync());
    }

    private void Cluster(KyrosPerfClientOptions o)
    {
        o.Redis = cluster.Redis;
        o.ServiceId = cluster.ServiceId;
        o.ClusterId = cluster.ServiceId;
    }

    /// <summary>The client's start fails (it does not connect, nor hang) within <see cref="RefusalBound"/>.</summary>
    private static async Task AssertRefusedAsync(Func<Task<IHost>> connect)
    {
        var attempt = connect();
        var first = await Task.WhenAny(attempt, Task.Delay(RefusalBound));
        Assert.True(first == attempt, $"The client was neither refused nor connected within {RefusalBound}.");
        if (attempt.IsCompletedSuccessfully)
        {
            using var connected = attempt.Result;
            Assert.Fail("The client connected.");
        }
        // Refused by the other side, not by a setting of its own.
        var refusal = Assert.Single(attempt.Exception!.InnerExceptions);
        Assert.False(refusal is ArgumentException or InvalidOperationException { Message: "No certificate specified" }, refusal.ToString());
    }
}
