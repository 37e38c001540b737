using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Durability;

/// <summary>
/// At start, when acknowledged writes wait for replicas, asks the Redis primary how many it has (<c>INFO replication</c>)
/// and warns when fewer are connected than <see cref="RedisDurabilityOptions.ReplicaAcks"/>: every acknowledged write
/// would answer 503 until enough are. It does not hold the start up (replicas may well connect after the silo), and it
/// connects to Redis only when it checks, off the start's path.
/// </summary>
public sealed class ReplicaCheck(IServiceProvider services, IOptions<RedisDurabilityOptions> options, ILogger<ReplicaCheck> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.ReplicaAcks > 0) _ = Task.Run(CheckAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The replicas connected to the primary, or null when Redis could not say.</summary>
    public async Task<int?> ConnectedReplicasAsync()
    {
        try
        {
            var redis = services.GetRequiredService<IConnectionMultiplexer>();
            var info = (string?)await redis.GetDatabase().ExecuteAsync("INFO", ["replication"], CommandFlags.DemandMaster);
            return ReadConnectedReplicas(info);
        }
        catch (Exception)
        {
            // Redis down or unreachable at start: the caller says so; whatever the cause, the check must not stop the silo.
            return null;
        }
    }

    private async Task CheckAsync()
    {
        var required = options.Value.ReplicaAcks;
        var connected = await ConnectedReplicasAsync();
        if (connected is null)
            logger.LogWarning("{Setting} is {Required}, and the Redis primary could not be asked how many replicas it has", $"{RedisDurabilityOptions.Section}:ReplicaAcks", required);
        else if (connected < required)
            logger.LogWarning("{Setting} is {Required}, but the Redis primary has {Connected} replicas connected: acknowledged writes answer 503 until {Required} are",
                $"{RedisDurabilityOptions.Section}:ReplicaAcks", required, connected, required);
    }

    /// <summary><c>connected_slaves:N</c> of an <c>INFO replication</c> answer.</summary>
    internal static int? ReadConnectedReplicas(string? info)
    {
        foreach (var line in (info ?? "").Split('\n'))
        {
            const string field = "connected_slaves:";
            if (line.StartsWith(field, StringComparison.Ordinal)
                && int.TryParse(line.AsSpan(field.Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var replicas))
                return replicas;
        }
        return null;
    }
}
