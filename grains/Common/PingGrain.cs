using Kyros.Perf.Catalog;
using Orleans.Concurrency;

namespace Kyros.Perf.Common;

public sealed class PingGrain : Grain, IPingGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
