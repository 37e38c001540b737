using Orleans.Concurrency;

namespace Kyros.Perf.Keys;

/// <summary>
/// One run-time key's account (keyed by the key's id), the one place in the cluster that admits its calls: each call to
/// a model holds its worst-case cost and tokens before it is made (<see cref="ReserveAsync"/>) and settles with what it
/// really cost after (<see cref="SettleAsync"/>). A hold counts against the key's budget, requests a minute and tokens a
/// minute until it is settled, so what the whole cluster spends never passes the budget by more than the calls in
/// flight cost beyond their worst case. The limits are read from the key's settings on the account's silo.
/// </summary>
[Alias("kyros.IKeyAccountGrain")]
public interface IKeyAccountGrain : IGrainWithStringKey
{
    /// <summary>Admits one call to <paramref name="model"/>, or says why not (and for how long) without holding anything.</summary>
    [Alias("reserve")]
    Task<KeyAdmission> ReserveAsync(string model, double worstCostUsd, long worstTokens);

    /// <summary>
    /// Releases a hold and adds what the call cost; stored before it answers. A hold the account no longer knows (its
    /// silo restarted) still adds its cost.
    /// </summary>
    [Alias("settle")]
    Task SettleAsync(long holdId, string model, double costUsd, long inputTokens, long outputTokens);

    /// <summary>The current period's spend, requests and tokens, in all and per model.</summary>
    [AlwaysInterleave, Alias("usage")]
    Task<KeyUsage> GetUsageAsync();
}

/// <summary>A call admitted (<see cref="HoldId"/>) or refused: <see cref="Code"/> and the wait before it may pass.</summary>
[GenerateSerializer, Immutable, Alias("kyros.KeyAdmission")]
public sealed record KeyAdmission(
    [property: Id(0)] long HoldId,
    [property: Id(1)] string? Code,
    [property: Id(2)] string? Reason,
    [property: Id(3)] TimeSpan? RetryAfter)
{
    public bool Admitted => Code is null;

    public static KeyAdmission Admit(long holdId) => new(holdId, null, null, null);
}

/// <summary>Why a key's call was refused: over its budget for the period, or over its requests or tokens a minute.</summary>
public static class KeyRefusals
{
    public const string BudgetExceeded = "budget_exceeded", RateLimitExceeded = "rate_limit_exceeded", Revoked = "key_revoked";
}

/// <summary>
/// A key's use in its current budget period (a key without a budget counts by calendar month): spend settled, spend
/// held by calls in flight, requests and tokens, in all and per model; and the last minute's requests and tokens.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.KeyUsage")]
public sealed record KeyUsage
{
    [Id(0)] public required string Period { get; init; }
    [Id(1)] public DateTimeOffset PeriodStart { get; init; }
    /// <summary>When the period rolls over; null for a <c>total</c> budget.</summary>
    [Id(2)] public DateTimeOffset? PeriodEnd { get; init; }
    [Id(3)] public double? BudgetUsd { get; init; }
    [Id(4)] public double SpendUsd { get; init; }
    [Id(5)] public double ReservedUsd { get; init; }
    [Id(6)] public long Requests { get; init; }
    [Id(7)] public long InputTokens { get; init; }
    [Id(8)] public long OutputTokens { get; init; }
    [Id(9)] public int InFlight { get; init; }
    [Id(10)] public long RequestsLastMinute { get; init; }
    [Id(11)] public long TokensLastMinute { get; init; }
    [Id(12)] public long Refused { get; init; }
    [Id(13)] public IReadOnlyList<KeyModelUsage> Models { get; init; } = [];

    /// <summary>What may still be spent: the budget less the spent and the held; null without a budget.</summary>
    public double? RemainingUsd => BudgetUsd is { } budget ? Math.Max(0, budget - SpendUsd - ReservedUsd) : null;
}

/// <summary>One model's part of a key's use in the period.</summary>
[GenerateSerializer, Immutable, Alias("kyros.KeyModelUsage")]
public sealed record KeyModelUsage(
    [property: Id(0)] string Model,
    [property: Id(1)] double SpendUsd,
    [property: Id(2)] long Requests,
    [property: Id(3)] long InputTokens,
    [property: Id(4)] long OutputTokens);

/// <summary>
/// A call a key's account refused (<see cref="KeyAdmission"/>): HTTP 429 with <see cref="Code"/> as the OpenAI error
/// code (<c>budget_exceeded</c>, <c>rate_limit_exceeded</c>) and <see cref="RetryAfter"/> when the wait is known; 401 for
/// a key revoked while it was in use.
/// </summary>
[GenerateSerializer, Alias("kyros.KeyLimitException")]
public sealed class KeyLimitException(string code, string message, TimeSpan? retryAfter) : Exception(message)
{
    [Id(0)] public string Code { get; } = code;
    [Id(1)] public TimeSpan? RetryAfter { get; } = retryAfter;
}

/// <summary>One run-time key's use in its period, as the cluster summary and the metrics show it.</summary>
[GenerateSerializer, Immutable, Alias("kyros.KeySpend")]
public sealed record KeySpend([property: Id(0)] string Id, [property: Id(1)] string Name, [property: Id(2)] KeyUsage Usage);
