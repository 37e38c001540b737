using Kyros.Perf.Routing;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace Kyros.Perf.Tests.Routing;

/// <summary>
/// Rate limits across a three-silo cluster on Redis, on a <see cref="FakeTimeProvider"/> product clock moved in 100 ms
/// steps: every step each silo with demand takes three decisions, and every 500 ms each silo renews its leases.
/// </summary>
public sealed class RateLeaseClusterTests(RedisServer redis)
{
    private const int RequestsPerMinute = 60;
    private const long TokensPerMinute = 6_000;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(100);

    private static long MinuteOf(DateTimeOffset at) => at.ToUnixTimeSeconds() / 60;

    private static DateTimeOffset StartOf(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);

    [Fact]
    public async Task Three_silos_admit_the_limit_and_no_more_in_every_minute_whoever_has_the_demand_and_after_a_silo_holding_a_lease_dies()
    {
        // Ten minutes behind the real clock and 10 s before a minute starts.
        var start = DateTimeOffset.UnixEpoch.AddMinutes(MinuteOf(DateTimeOffset.UtcNow) - 10).AddSeconds(50);
        var time = new FakeTimeProvider(start);
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 3, time: time, settings: new Dictionary<string, string?>
        {
            ["Kyros:Catalog:Models:0:Id"] = "limited",
            ["Kyros:Catalog:Models:0:RequestsPerMinute"] = $"{RequestsPerMinute}",
            ["Kyros:Catalog:Models:1:Id"] = "token-limited",
            ["Kyros:Catalog:Models:1:TokensPerMinute"] = $"{TokensPerMinute}",
        });
        var silos = cluster.Cluster.Silos.Cast<InProcessSiloHandle>().Select(s => new Silo(s)).ToList();
        var first = MinuteOf(start) + 1;
        var admitted = new Dictionary<(string Model, long Minute), long>();
        var admittedAt = new List<DateTimeOffset>();

        Task RunUntilAsync(long endMinute, string model, IReadOnlyList<Silo> busy, long settleTo = 0) =>
            RunToAsync(StartOf(endMinute), model, busy, settleTo);

        async Task RunToAsync(DateTimeOffset end, string model, IReadOnlyList<Silo> busy, long settleTo = 0)
        {
            for (var step = 0; time.GetUtcNow() < end; step++)
            {
                time.Advance(Step);
                var now = time.GetUtcNow();
                if (step % 5 == 0)
                    foreach (var silo in silos) await silo.Renewal.RenewAsync();
                foreach (var silo in busy)
                    for (var i = 0; i < 3; i++)
                    {
                        var request = new RoutingRequest(new RequestFeatures { EstimatedTokens = 100, OutputTokens = 100 }, [model]);
                        try
                        {
                            var decision = silo.Engine.Decide(request, RoutingEngine.SharedDraw);
                            var key = (model, MinuteOf(now));
                            admitted[key] = admitted.GetValueOrDefault(key) + (settleTo > 0 ? settleTo : 1);
                            if (model == "limited") admittedAt.Add(now);
                            // The request used fewer tokens than it reserved: settled at once.
                            if (settleTo > 0) silo.Engine.Settle(model, decision.EstimatedTokens + 100, settleTo);
                        }
                        catch (NoCandidateException refused)
                        {
                            Assert.StartsWith("rate limit:", refused.Rejected.Single().Reason);
                        }
                    }
            }
        }

        // Demand far above the limit on all three silos: each full minute admits the limit.
        await RunUntilAsync(first + 2, "limited", silos);
        Assert.InRange(admitted[("limited", first - 1)], 0, RequestsPerMinute);
        Assert.InRange(admitted[("limited", first)], 57, RequestsPerMinute);
        Assert.InRange(admitted[("limited", first + 1)], 57, RequestsPerMinute);

        // Demand on one silo only: the idle silos give back what they keep in hand, and it gets the whole limit.
        await RunUntilAsync(first + 3, "limited", [silos[0]]);
        Assert.InRange(admitted[("limited", first + 2)], RequestsPerMinute - 1, RequestsPerMinute);

        // A token limit, with every request settled at 50 tokens of the 200 it reserved: what is used stays within the limit, and close to it.
        await RunUntilAsync(first + 5, "token-limited", silos, settleTo: 50);
        Assert.InRange(admitted[("token-limited", first + 4)], TokensPerMinute * 9 / 10, TokensPerMinute);

        // Demand on silo 2 only, then it dies holding a lease it has not spent. No minute admits more than the limit, and
        // the survivors' next minute has the whole limit: the dead silo's lease lasted no longer than its life.
        await RunToAsync(StartOf(first + 5).AddSeconds(1.2), "limited", [silos[2]]);
        var dying = silos[2].Limits.StateOf("limited", RequestsPerMinute, null, time.GetUtcNow())!;
        Assert.Equal(RateLimitMode.Lease, dying.Mode);
        Assert.True(dying.LeasedRequests > 0, $"the dying silo holds {dying.LeasedRequests} unspent");
        await cluster.Cluster.KillSiloAsync(silos[2].Handle);
        silos.RemoveAt(2);
        foreach (var survivor in silos)
            await KyrosTestCluster.UntilServedAsync(async () => { await survivor.Renewal.RenewAsync(); return true; }, TimeSpan.FromSeconds(60));
        await RunUntilAsync(first + 7, "limited", silos);
        Assert.InRange(admitted[("limited", first + 5)], 0, RequestsPerMinute);
        Assert.InRange(admitted[("limited", first + 6)], RequestsPerMinute - 1, RequestsPerMinute);
        for (var i = 0; i < admittedAt.Count; i++)
            Assert.True(admittedAt.Skip(i).TakeWhile(t => t - admittedAt[i] < TimeSpan.FromMinutes(1)).Count() <= RequestsPerMinute, $"a sliding minute from {admittedAt[i]:T}");
    }

    private sealed record Silo(InProcessSiloHandle Handle)
    {
        public RoutingEngine Engine => Handle.ServiceProvider.GetRequiredService<RoutingEngine>();
        public RateLeaseRenewal Renewal => Handle.ServiceProvider.GetRequiredService<RateLeaseRenewal>();
        public RateLimiter Limits => Handle.ServiceProvider.GetRequiredService<RateLimiter>();
    }
}
