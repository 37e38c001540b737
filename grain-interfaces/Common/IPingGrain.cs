using Orleans.Concurrency;

namespace Kyros.Perf.Common;

/// <summary>A grain that does nothing: the baseline every benchmark figure is a ratio to, and a liveness probe.</summary>
[Alias("kyros.IPingGrain")]
public interface IPingGrain : IGrainWithIntegerKey
{
    [Alias("ping")]
    Task PingAsync();
}
