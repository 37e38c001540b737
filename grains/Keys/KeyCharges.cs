using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Keys;

/// <summary>The run-time key a gateway call is made with: whose account admits and pays for it.</summary>
public sealed record KeyCaller(string Id);

/// <summary>
/// The gateway's side of a key's account (<see cref="IKeyAccountGrain"/>): before each call to a model, hold its worst
/// case (the counted prompt plus the output allowed, at the model's prices); after it, settle with what it cost. A
/// refusal is a <see cref="KeyLimitException"/>. A settlement that cannot be made (the account's silo gone) is left to
/// the hold's expiry, which counts the worst case: never less than the call cost.
/// </summary>
public sealed class KeyCharges(IGrainFactory grains, ILogger<KeyCharges> logger)
{
    /// <param name="worstCostUsd">The call's worst case at the model's prices.</param>
    /// <param name="worstTokens">Its prompt plus the output allowed.</param>
    public async Task<KeyHold> ReserveAsync(KeyCaller caller, string model, double worstCostUsd, long worstTokens)
    {
        var admission = await grains.GetGrain<IKeyAccountGrain>(caller.Id).ReserveAsync(model, worstCostUsd, worstTokens);
        if (!admission.Admitted) throw new KeyLimitException(admission.Code!, admission.Reason ?? admission.Code!, admission.RetryAfter);
        return new KeyHold(caller, model, admission.HoldId, worstCostUsd);
    }

    public async Task SettleAsync(KeyHold hold, double costUsd, long inputTokens, long outputTokens)
    {
        try
        {
            await grains.GetGrain<IKeyAccountGrain>(hold.Caller.Id).SettleAsync(hold.Id, hold.Model, costUsd, inputTokens, outputTokens);
        }
        catch (Exception exception)
        {
            logger.LogWarning(exception, "Key {Key}: the call to {Model} could not be settled; its hold counts its worst case ({Worst} USD) when it expires",
                hold.Caller.Id, hold.Model, hold.WorstCostUsd);
        }
    }
}

/// <summary>What one call holds of its key's account until it settles.</summary>
public sealed record KeyHold(KeyCaller Caller, string Model, long Id, double WorstCostUsd);
