using Kyros.Perf.Client;
using Kyros.Perf.Silo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A real in-process Orleans cluster on real Redis (grain state and the recent-record log) and a real SQLite file,
/// with the SDK facade on its client.
/// </summary>
public sealed class KyrosTestCluster : IAsyncDisposable
{
    private readonly string _directory;

    private KyrosTestCluster(InProcessTestCluster cluster, string directory)
    {
        Cluster = cluster;
        _directory = directory;
        Client = new KyrosPerfClient(cluster.Client, TimeProvider.System);
    }

    public InProcessTestCluster Cluster { get; }
    public KyrosPerfClient Client { get; }

    /// <param name="time">
    /// The product's clock (statistics, alerts, the tuner's schedule), such as a FakeTimeProvider. Orleans itself (grain
    /// timers, messaging, membership) stays on real time: a grain call must not wait for a test to move the clock.
    /// </param>
    public static async Task<KyrosTestCluster> StartAsync(RedisServer redis, short silos = 2, TimeSpan? checkpointInterval = null,
        IReadOnlyDictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var directory = Directory.CreateTempSubdirectory("kyros-cluster-").FullName;
        var values = new Dictionary<string, string?>
        {
            ["Kyros:History:DatabasePath"] = Path.Combine(directory, "history.db"),
            ["Kyros:RecentRecords:KeyPrefix"] = $"test-{Guid.NewGuid():N}",
            ["Kyros:ModelStats:CheckpointInterval"] = (checkpointInterval ?? TimeSpan.FromSeconds(1)).ToString(),
            ["Kyros:Resources:SampleInterval"] = "00:00:01",
            ["Kyros:Gateway:SimulationTimeScale"] = "0.01",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>()) values[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new KyrosSiloOptions { Redis = redis.ConnectionString, Dashboard = false };

        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) =>
        {
            KyrosSiloHost.AddKyrosPerf(silo, options, configuration);
            if (time is null) return;
            silo.Services.AddSingleton(time);
            foreach (var area in new[] { TimeProviderNames.Grains, TimeProviderNames.Messaging, TimeProviderNames.SystemTimers,
                         TimeProviderNames.Membership, TimeProviderNames.ActivationManagement, TimeProviderNames.GrainDirectory })
                silo.Services.AddKeyedSingleton(area, TimeProvider.System);
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(Kyros.Perf.Resources.AlertStreams.Provider));
        builder.ConfigureHost(host => host.Logging.SetMinimumLevel(LogLevel.Warning));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new KyrosTestCluster(cluster, directory);
    }

    /// <summary>Retries a call while the cluster moves grains off a dead silo; any other error fails at once.</summary>
    public static async Task<T> UntilServedAsync<T>(Func<Task<T>> call, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception exception) when (exception is OrleansException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>One two-silo cluster shared by the tests that do not kill silos.</summary>
public sealed class SharedCluster(RedisServer redis) : IAsyncLifetime
{
    public KyrosTestCluster Value { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Value = await KyrosTestCluster.StartAsync(redis);

    public ValueTask DisposeAsync() => Value.DisposeAsync();
}
