using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf.Routing;

/// <summary>The silos' latest rate-limit use (<see cref="RateUsageTable"/>).</summary>
public sealed class RateUsageGrain(TimeProvider time) : Grain, IRateUsageGrain
{
    private readonly RateUsageTable _table = new();

    public Task<RateUsageReport> ExchangeAsync(string silo, RateUsage[] mine) => Task.FromResult(_table.Exchange(silo, mine, time.GetUtcNow()));
}
