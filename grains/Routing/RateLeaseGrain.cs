using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Routing;

/// <summary>
/// One per cluster: grants each silo leases on the limited models' budgets (<see cref="RateLeaseBook"/>). Its state is
/// written before it answers, so when its silo dies what was admitted and granted still counts on the silo that takes over.
/// </summary>
public sealed class RateLeaseGrain(
    [PersistentState("rate-leases", KyrosStorage.Name)] IPersistentState<RateLeaseState> state,
    ModelCatalog catalog,
    TimeProvider time) : Grain, IRateLeaseGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private RateLeaseBook _book = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _book = RateLeaseBook.Restore(state.State);
        return Task.CompletedTask;
    }

    public async Task<RateLeaseGrant[]> LeaseAsync(string silo, RateLeaseAsk[] asks)
    {
        ArgumentException.ThrowIfNullOrEmpty(silo);
        ArgumentNullException.ThrowIfNull(asks);
        var now = time.GetUtcNow();
        var grants = new RateLeaseGrant[asks.Length];
        for (var i = 0; i < asks.Length; i++)
        {
            var ask = asks[i] ?? throw new ArgumentNullException($"asks[{i}]");
            // A model this silo's catalog does not limit gets nothing to spend: its silo keeps to its fallback share.
            grants[i] = catalog.Find(ask.Model) is not { } model
                ? new RateLeaseGrant(ask.Model, 0, 0, 0, 0, 0)
                : _book.Lease(silo, ask, model.RequestsPerMinute, model.TokensPerMinute, now);
        }
        if (_book.Changed)
        {
            state.State = _book.Export();
            await state.WriteStateAsync();
        }
        return grants;
    }
}
