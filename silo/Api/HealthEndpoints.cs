using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Kyros.Perf.History;
using Kyros.Perf.Stats;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Api;

public static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        // Ready means: a grain call round-trips, the recent-record log answers, the history file opens, and the silo is
        // not writing back what it holds after Redis lost its data.
        app.MapGet("/healthz", async (IGrainFactory grains, IRecentRecordLog log, SqliteHistoryStore history,
            IOptions<KyrosSiloOptions> options, Catalog.ModelCatalog catalog, [FromServices] RedisEpoch? epoch, CancellationToken cancellationToken) =>
        {
            var orleans = await Check(() => grains.GetGrain<IPingGrain>(0).PingAsync().WaitAsync(TimeSpan.FromSeconds(5), cancellationToken));
            var recent = await Check(async () => { if (!await log.IsHealthyAsync()) throw new InvalidOperationException(); });
            var sqlite = await Check(async () => { if (!await history.IsHealthyAsync()) throw new InvalidOperationException(); });
            var redis = epoch?.Status;
            var repairing = redis is { Repairing: true };
            var healthy = orleans && recent && sqlite && !repairing;
            var body = new
            {
                Status = healthy ? "ok" : repairing ? "repairing" : "unavailable",
                Silo = options.Value.HostName,
                Orleans = orleans ? "up" : "down",
                RecentRecords = new { Store = options.Value.UsesRedis ? "redis" : "memory", Status = recent ? "up" : "down" },
                History = new { Store = "sqlite", Status = sqlite ? "up" : "down" },
                // Redis's epoch (a new one means it lost its data) and this silo's write-back after the last loss.
                Redis = redis is null ? null : new { Epoch = redis.Epoch?[..8], Repair = repairing ? "writing back" : "idle", redis.LostAt, redis.RepairedAt, redis.LastError },
                // The catalog version this silo serves: every silo of a cluster reaches the same one within its sync interval.
                Catalog = new { catalog.Current.Version, Models = catalog.Current.Models.Count },
            };
            return Results.Json(body, statusCode: healthy ? 200 : 503);
        });

        // The cluster as the pages show it: its silos, and what this silo serves (demo traffic, the dashboard, keys).
        app.MapGet("/v1/cluster", async (IGrainFactory grains, IOptions<KyrosSiloOptions> options, Auth.ApiKeys keys, HttpContext context) =>
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
            return Results.Ok(new
            {
                Silo = options.Value.HostName,
                Silos = hosts.OrderBy(h => h.SiloName, StringComparer.Ordinal)
                    .Select(h => new { Name = h.SiloName, Address = h.SiloAddress.ToString(), Status = h.Status.ToString().ToLowerInvariant(), h.StartTime })
                    .ToArray(),
                options.Value.Demo,
                options.Value.Dashboard,
                ApiKeys = keys.Enabled,
                Key = Auth.ApiKeyMiddleware.KeyNameOf(context),
                Scopes = keys.Enabled ? Auth.ApiKeyMiddleware.ScopesOf(context) : [Auth.Scopes.Read, Auth.Scopes.Write, Auth.Scopes.Admin],
            });
        }).WithTags(nameof(HealthEndpoints)).WithDescription("The active silos, and what this silo serves: demo traffic, the dashboard, API keys and the caller's scopes.");
    }

    private static async Task<bool> Check(Func<Task> probe)
    {
        try
        {
            await probe();
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }
}
