using Kyros.Perf.Routing;
using Orleans.Concurrency;

namespace Kyros.Perf.Routing;

/// <summary>
/// The silos' use of the models' rate limits: every snapshot interval each silo reports its own last minute and hears
/// the sum of the others', so each can hold a limit for the whole cluster.
/// </summary>
[Alias("kyros.IRateUsageGrain")]
public interface IRateUsageGrain : IGrainWithIntegerKey
{
    [Alias("exchange-report")]
    Task<RateUsageReport> ExchangeAsync(string silo, RateUsage[] mine);
}
