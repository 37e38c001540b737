using Kyros.Perf.Resources;
using Orleans.Concurrency;

namespace Kyros.Perf.Resources;

/// <summary>Every alert event of the cluster and the alerts still active (one activation, key 0; SQLite keeps history).</summary>
[Alias("kyros.IAlertLogGrain")]
public interface IAlertLogGrain : IGrainWithIntegerKey
{
    [Alias("append")]
    Task AppendAsync(IReadOnlyList<AlertEvent> events);

    [AlwaysInterleave, Alias("query")]
    Task<AlertLogPage> QueryAsync(AlertQuery query);
}
