using Kyros.Perf.Alerts;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Kyros.Perf.Keys;

/// <summary>
/// One run-time key's account (<see cref="KeyAccount"/> does the arithmetic). Reentrant: a reservation is decided in
/// one turn with no await, while settlements wait for their shared write (<see cref="CoalescedWrite"/>). Holds live in
/// memory only: after a move the account admits against what was settled, so a silo's death costs at most the calls it
/// had in flight. The key's limits are read from this silo's <see cref="ApiKeyRing"/>; a key it does not know yet is
/// asked for once, and a key the directory does not hold is refused.
/// </summary>
[Reentrant]
public sealed class KeyAccountGrain(
    [PersistentState("key-account", KyrosStorage.Name)] IPersistentState<KeyAccountState> state,
    ApiKeyRing ring,
    ApiKeySync sync,
    TimeProvider time,
    ILogger<KeyAccountGrain> logger) : Grain, IKeyAccountGrain, IStateWriteBack
{
    private KeyAccount _account = null!;
    private CoalescedWrite _write = null!;
    private bool _delivering;

    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _account = new KeyAccount(state.State);
        _write = new CoalescedWrite(() =>
        {
            state.State = _account.Export();
            return state.WriteStateAsync();
        });
        return Task.CompletedTask;
    }

    public async Task<KeyAdmission> ReserveAsync(string model, double worstCostUsd, long worstTokens)
    {
        if (await SettingsAsync() is not { } settings)
            return new KeyAdmission(0, KeyRefusals.Revoked, $"Key '{this.GetPrimaryKeyString()}' is not in the key directory (revoked).", null);
        var admission = _account.Reserve(settings, model, worstCostUsd, worstTokens, time.GetUtcNow());
        // A period that rolled over is stored when the next call settles; nothing else a reservation changes is kept,
        // unless it resolves the budget alert (a new period, a raised budget): decided above, so the wait costs no admission.
        if (_account.CheckBudget(settings, time.GetUtcNow()) is not null) await AlertAsync();
        return admission;
    }

    public async Task SettleAsync(long holdId, string model, double costUsd, long inputTokens, long outputTokens)
    {
        // A key revoked while its call was in flight still pays for it, in the period it had.
        var settings = await SettingsAsync() ?? new ApiKeySettings { Name = this.GetPrimaryKeyString(), Scopes = [] };
        _account.Settle(settings, holdId, model, costUsd, inputTokens, outputTokens, time.GetUtcNow());
        _account.CheckBudget(settings, time.GetUtcNow());
        await _write.WriteAsync();
        if (_account.PendingAlerts.Count > 0) await DeliverAsync();
    }

    /// <summary>The budget alert's events are stored with the account, then delivered; what fails to go out goes with the next call.</summary>
    private async Task AlertAsync()
    {
        await _write.WriteAsync();
        await DeliverAsync();
    }

    private async Task DeliverAsync()
    {
        // Reentrant: one delivery at a time, so two turns do not publish the same events twice.
        if (_delivering) return;
        _delivering = true;
        try
        {
            var pending = _account.PendingAlerts.ToArray();
            if (!await AlertDelivery.TryDeliverAsync(GrainFactory, this.Stream(), pending, logger, $"key {this.GetPrimaryKeyString()}")) return;
            _account.Delivered(pending.Length);
            await _write.WriteAsync();
        }
        finally
        {
            _delivering = false;
        }
    }

    public async Task<KeyUsage> GetUsageAsync()
    {
        var settings = await SettingsAsync() ?? new ApiKeySettings { Name = this.GetPrimaryKeyString(), Scopes = [] };
        var usage = _account.Usage(settings, time.GetUtcNow());
        // Read in a new period or after the budget was raised: the budget alert resolves without waiting for a call.
        if (_account.CheckBudget(settings, time.GetUtcNow()) is not null) await AlertAsync();
        return usage;
    }

    private async ValueTask<ApiKeySettings?> SettingsAsync()
    {
        var id = this.GetPrimaryKeyString();
        if (ring.FindById(id) is { } key) return key.Settings;
        // Made on another silo a moment ago: this silo's copy may not have it yet.
        await sync.PullAsync();
        return ring.FindById(id)?.Settings;
    }
}
