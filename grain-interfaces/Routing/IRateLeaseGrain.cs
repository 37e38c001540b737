using Kyros.Perf.Routing;

namespace Kyros.Perf.Routing;

/// <summary>
/// The cluster's rate-limit budgets: every snapshot interval each silo says what it spent, holds and wants of each
/// limited model and is granted a lease out of what remains of the limit over the last minute, so decisions spend budget
/// their silo already holds and the cluster never admits more than the limit in any minute.
/// </summary>
[Alias("kyros.IRateLeaseGrain")]
public interface IRateLeaseGrain : IGrainWithIntegerKey
{
    [Alias("lease")]
    Task<RateLeaseGrant[]> LeaseAsync(string silo, RateLeaseAsk[] asks);
}
