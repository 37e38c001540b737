using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Durability;
using Microsoft.Extensions.Options;
using Orleans.Clustering.Redis;
using Orleans.Configuration;
using StackExchange.Redis;

namespace Kyros.Perf.Silo.Durability;

/// <summary>
/// Puts this silo's row back in Orleans' Redis membership table after Redis lost it. Without the table no silo can
/// be declared dead (every change is conditional on the table's version), so a silo killed afterwards would leave its
/// grains unreachable. Each live silo writes its own row. The table's version starts above every version this silo has
/// seen: a silo takes a table with a version no newer than its own for a stale read and ignores it.
/// </summary>
public sealed class MembershipRebuild(
    IMembershipTable table,
    IConnectionMultiplexer redis,
    IOptions<RedisClusteringOptions> clustering,
    IOptions<ClusterOptions> cluster,
    ILocalSiloDetails silo,
    IClusterMembershipService membership) : IRedisLossRepair
{
    // Silos' views of the version differ by the few changes in flight; this is far above that.
    private const long VersionMargin = 100;
    private const int Attempts = 20;
    private static readonly DateTime StartedAt = Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public string Name => "membership table";

    public async Task RepairAsync(string epoch, CancellationToken cancellationToken)
    {
        var snapshot = membership.CurrentSnapshot;
        if (snapshot.GetSiloStatus(silo.SiloAddress) != SiloStatus.Active) return;
        // Orleans' Redis table is one hash: field "Version" holds the table's version as a number, each silo a field.
        var key = clustering.Value.CreateRedisKey(cluster.Value);
        var floor = (snapshot.Version.Value + VersionMargin).ToString(CultureInfo.InvariantCulture);
        await redis.GetDatabase().HashSetAsync(key, "Version", floor, When.NotExists);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = await table.ReadAllAsync(cancellationToken);
            if (data.Members.Any(m => m.Item1.SiloAddress.Equals(silo.SiloAddress))) return;
            // Another silo inserting its row at the same version makes this one fail: read again and retry.
            if (await table.InsertRowAsync(Entry(), data.Version.Next(), cancellationToken)) return;
        }
        throw new InvalidOperationException($"The membership table kept changing: this silo's row was not written back in {Attempts} attempts.");
    }

    private MembershipEntry Entry() => new()
    {
        SiloAddress = silo.SiloAddress,
        SiloName = silo.Name,
        HostName = silo.DnsHostName,
        Status = SiloStatus.Active,
        ProxyPort = silo.GatewayAddress?.Endpoint.Port ?? 0,
        SuspectTimes = [],
        StartTime = StartedAt,
        IAmAliveTime = DateTime.UtcNow,
    };
}
