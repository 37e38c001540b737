using Kyros.Perf.Catalog;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Cluster;

/// <summary>The catalog through the SDK in a two-silo cluster on Redis: edits, their errors, removal and, a day later, the purge of live state.</summary>
public sealed class CatalogClusterTests(RedisServer redis)
{
    [Fact]
    public async Task The_sdk_edits_the_catalog_refuses_bad_and_stale_edits_and_a_removed_models_redis_keys_go_once_no_window_reaches_them()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 2, time: time,
            settings: new Dictionary<string, string?> { ["Kyros:Catalog:RemovalGrace"] = "00:01:00" });
        var client = cluster.Client;
        var id = $"sdk-{Guid.NewGuid():N}"[..16];

        // Bad input never reaches the cluster: ArgumentException naming the field, as HTTP names it.
        var bad = Assert.Throws<ArgumentException>(() => client.AddModelAsync(new ModelDescriptor { Id = id, QualityPrior = 3 }).GetAwaiter().GetResult());
        Assert.Equal("quality_prior", bad.ParamName);
        Assert.Null(await client.GetModelAsync(id));

        var added = await client.AddModelAsync(new ModelDescriptor { Id = id, InputPricePer1k = 0.002 });
        await Assert.ThrowsAsync<CatalogModelExistsException>(() => client.AddModelAsync(new ModelDescriptor { Id = id }));
        var updated = await client.UpdateModelAsync(new ModelDescriptor { Id = id, InputPricePer1k = 0.004 }, added.Revision);
        Assert.True(updated.Revision > added.Revision);
        await Assert.ThrowsAsync<CatalogRevisionException>(() => client.UpdateModelAsync(new ModelDescriptor { Id = id, InputPricePer1k = 9 }, added.Revision));
        Assert.Equal(0.004, (await client.GetModelAsync(id))!.Model.InputPricePer1k);

        // Every silo's copy follows; records are taken through the SDK.
        await EverySiloAsync(cluster, catalog => catalog.Find(id)?.InputPricePer1k == 0.004);
        Assert.Equal(3, (await client.RecordBatchAsync([.. Enumerable.Range(0, 3).Select(i => Records.Valid(id, 1 + i, time.GetUtcNow()))])).Recorded);
        var grain = cluster.Cluster.Client.GetGrain<IModelStatsGrain>(id);
        await Eventually.UntilAsync(grain.GetInfoAsync, info => info.LastCheckpoint is not null);
        var connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.NotEmpty(KeysOf(connection, id));

        // Removed: records within the grace period count, after it they are refused; the figures stay readable.
        var removal = await client.RemoveModelAsync(id);
        Assert.Equal(CatalogAction.Removed, removal.Action);
        await EverySiloAsync(cluster, catalog => !catalog.Contains(id) && catalog.IsReadable(id));
        Assert.Equal(1, (await client.RecordAsync(Records.Valid(id, 2, time.GetUtcNow()))).Recorded);
        time.Advance(TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<ModelRemovedException>(() => grain.RecordAsync(Records.Valid(id, 2, time.GetUtcNow())));
        Assert.Equal(4, (await client.GetSummaryAsync(id, TimeSpan.FromHours(1))).Count);

        // The change history and the alert log say who did what.
        var changes = await client.GetModelChangesAsync(10);
        Assert.Equal([CatalogAction.Removed, CatalogAction.Updated, CatalogAction.Added], changes.Take(3).Select(c => c.Action));
        Assert.All(changes.Take(3), c => Assert.StartsWith("sdk ", c.Actor));
        var notices = await cluster.Cluster.Client.GetGrain<IAlertLogGrain>(0).QueryAsync(new AlertQuery(Node: "cluster"));
        Assert.Contains(notices.Events, e => e.Series == "catalog" && e.Level == AlertLevel.Info && e.Message.Contains($"removed {id}"));

        // While a day's window reaches its records the keys stay; after, they go and history alone keeps the model.
        var catalogGrain = cluster.Cluster.Client.GetGrain<IModelCatalogGrain>(0);
        time.Advance(TimeSpan.FromHours(24));
        Assert.Empty(await catalogGrain.PurgeRemovedAsync());
        Assert.NotEmpty(KeysOf(connection, id));
        time.Advance(TimeSpan.FromHours(2));
        Assert.Equal([id], await catalogGrain.PurgeRemovedAsync());
        Assert.Empty(KeysOf(connection, id));
        Assert.Equal(CatalogAction.Purged, (await client.GetModelChangesAsync(1))[0].Action);
        Assert.Empty(await catalogGrain.PurgeRemovedAsync());
    }

    private static async Task EverySiloAsync(KyrosTestCluster cluster, Func<ModelCatalog, bool> holds)
    {
        foreach (var silo in cluster.Cluster.Silos.Cast<Orleans.TestingHost.InProcessSiloHandle>())
        {
            var catalog = silo.ServiceProvider.GetRequiredService<ModelCatalog>();
            await Eventually.UntilAsync(() => Task.FromResult(holds(catalog)), held => held, TimeSpan.FromSeconds(1));
        }
    }

    private static List<string> KeysOf(ConnectionMultiplexer connection, string model) =>
        [.. connection.GetServers()[0].Keys(pattern: $"*{model}*").Select(k => (string)k!)];
}
