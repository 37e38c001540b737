using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A Redis primary with replicas (AOF on) and Sentinels that fail it over within about 2 s, all throwaway processes on
/// free loopback ports with their files in a temporary folder, stopped by their pids at the end. The silos reach it
/// through the Sentinels (<see cref="ConnectionString"/>), as in production.
/// </summary>
public sealed class RedisReplicaSet : IAsyncDisposable
{
    public const string ServiceName = "kyros";

    private readonly string _directory = Directory.CreateTempSubdirectory("kyros-sentinel-").FullName;
    private readonly Dictionary<int, Process> _servers = [];
    private readonly List<Process> _sentinels = [];
    private readonly List<int> _sentinelPorts = [];
    private ConnectionMultiplexer? _sentinel;

    /// <summary>StackExchange.Redis's Sentinel form: every Sentinel, and the service they watch.</summary>
    public string ConnectionString => string.Join(",", _sentinelPorts.Select(p => $"127.0.0.1:{p}")) + $",serviceName={ServiceName}";

    /// <summary>Starts the set and returns once each Sentinel knows every replica and the other Sentinels (it could not fail over before).</summary>
    public static async Task<RedisReplicaSet> StartAsync(int replicas = 1, int sentinels = 3)
    {
        var set = new RedisReplicaSet();
        try
        {
            var primary = FreePort.Next();
            set.StartServer(primary, replicaOf: null);
            for (var i = 0; i < replicas; i++) set.StartServer(FreePort.Next(), replicaOf: primary);
            for (var i = 0; i < sentinels; i++) set.StartSentinel(FreePort.Next(), primary, quorum: sentinels / 2 + 1);
            await set.UntilAsync(async () => await set.ConnectedReplicasAsync(primary) == replicas, "the replicas to sync");
            set._sentinel = await ConnectionMultiplexer.SentinelConnectAsync(string.Join(",", set._sentinelPorts.Select(p => $"127.0.0.1:{p}")));
            await set.UntilAsync(async () =>
            {
                foreach (var port in set._sentinelPorts)
                {
                    var master = (await set.SentinelServer(port).SentinelMasterAsync(ServiceName)).ToDictionary(p => p.Key, p => p.Value);
                    if (master["num-slaves"] != replicas.ToString(CultureInfo.InvariantCulture)
                        || master["num-other-sentinels"] != (sentinels - 1).ToString(CultureInfo.InvariantCulture)) return false;
                }
                return true;
            }, "the Sentinels to know the replicas and each other");
            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>The port of the primary, as the Sentinels name it.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        foreach (var port in _sentinelPorts)
        {
            try
            {
                if (await SentinelServer(port).SentinelGetMasterAddressByNameAsync(ServiceName) is IPEndPoint primary) return primary.Port;
            }
            catch (RedisException)
            {
                // Asking the next one.
            }
        }
        throw new InvalidOperationException("No Sentinel names a primary.");
    }

    /// <summary>The ports of the servers running that are not the primary.</summary>
    public async Task<int[]> ReplicaPortsAsync()
    {
        var primary = await PrimaryPortAsync();
        return [.. _servers.Where(s => s.Key != primary && !s.Value.HasExited).Select(s => s.Key)];
    }

    /// <summary>Kills the primary's process (SIGKILL) and returns its port.</summary>
    public async Task<int> KillPrimaryAsync()
    {
        var port = await PrimaryPortAsync();
        _servers[port].Kill();
        await _servers[port].WaitForExitAsync();
        return port;
    }

    /// <summary>Waits until the Sentinels name a primary other than <paramref name="old"/>, and returns its port.</summary>
    public async Task<int> WaitForFailoverAsync(int old, TimeSpan within)
    {
        var primary = old;
        await UntilAsync(async () => (primary = await PrimaryPortAsync()) != old, "the Sentinels to fail over", within);
        return primary;
    }

    /// <summary>Starts a killed server again on its port and files, as its supervisor would: a replica of the current primary.</summary>
    public async Task RestartAsReplicaAsync(int port)
    {
        _servers[port].Dispose();
        StartServer(port, replicaOf: await PrimaryPortAsync());
    }

    /// <summary>The replicas connected to the server on <paramref name="port"/> (<c>INFO replication</c>).</summary>
    public async Task<int> ConnectedReplicasAsync(int port)
    {
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port},connectTimeout=2000,allowAdmin=true");
            var info = await connection.GetServer("127.0.0.1", port).InfoAsync("replication");
            // A replica counts once its link is up: "slaveN:ip=...,state=online,..." (not "wait_bgsave" or "send_bulk").
            return info.SelectMany(group => group).Count(pair => pair.Key.Length > 5 && pair.Key.StartsWith("slave", StringComparison.Ordinal)
                && pair.Key[5..].All(char.IsAsciiDigit) && pair.Value.Contains("state=online", StringComparison.Ordinal));
        }
        catch (RedisException)
        {
            return 0;
        }
    }

    private IServer SentinelServer(int port) => _sentinel!.GetServer("127.0.0.1", port);

    private void StartServer(int port, int? replicaOf)
    {
        var directory = Path.Combine(_directory, $"redis-{port}");
        Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList =
            {
                "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--protected-mode", "no", "--dir", directory,
                "--save", "", "--appendonly", "yes",
                // A replica that (re)connects syncs at once, not after the default 5 s wait for others to share the transfer.
                "--repl-diskless-sync-delay", "0",
            },
        };
        if (replicaOf is { } primary)
        {
            start.ArgumentList.Add("--replicaof");
            start.ArgumentList.Add("127.0.0.1");
            start.ArgumentList.Add(primary.ToString(CultureInfo.InvariantCulture));
        }
        _servers[port] = Start(start, "redis-server");
    }

    private void StartSentinel(int port, int primary, int quorum)
    {
        var directory = Path.Combine(_directory, $"sentinel-{port}");
        Directory.CreateDirectory(directory);
        // Sentinel rewrites its own file (what it learns of the set), so each has one of its own.
        var file = Path.Combine(directory, "sentinel.conf");
        File.WriteAllText(file, $"""
            port {port}
            bind 127.0.0.1
            protected-mode no
            dir {directory}
            sentinel monitor {ServiceName} 127.0.0.1 {primary} {quorum}
            sentinel down-after-milliseconds {ServiceName} 1000
            sentinel failover-timeout {ServiceName} 2000
            sentinel parallel-syncs {ServiceName} 1

            """);
        _sentinels.Add(Start(new ProcessStartInfo("redis-sentinel") { ArgumentList = { file } }, "redis-sentinel"));
        _sentinelPorts.Add(port);
    }

    private static Process Start(ProcessStartInfo start, string program)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        try
        {
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }
        catch (Win32Exception exception)
        {
            throw new InvalidOperationException($"{program} is not installed: run ./test.sh, which installs it.", exception);
        }
    }

    private async Task UntilAsync(Func<Task<bool>> done, string what, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(30);
        var deadline = DateTime.UtcNow + limit;
        while (!await done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Waited {limit.TotalSeconds:0} s for {what}.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_sentinel is not null) await _sentinel.DisposeAsync();
        foreach (var process in _sentinels.Concat(_servers.Values))
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }
            }
            catch (InvalidOperationException)
            {
                // It had exited already.
            }
            process.Dispose();
        }
        Directory.Delete(_directory, recursive: true);
    }
}
