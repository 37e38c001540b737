using System.Globalization;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Keys;

/// <summary>
/// The arithmetic of one key's account: holds for calls in flight, what settled calls cost in the current period, and
/// the sliding minute of requests and tokens. A call is admitted only when the budget still covers the spent, every
/// hold and its own worst case (so a budget is never passed by a call whose worst case was honest), and when the
/// minute's requests and tokens leave room for it. Not thread-safe: one grain owns it.
/// </summary>
public sealed class KeyAccount
{
    /// <summary>A hold never settled (its silo died mid-call) counts as spent at its worst case after this long.</summary>
    public static readonly TimeSpan HoldLife = TimeSpan.FromMinutes(11);

    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    /// <summary>Sums of prices in floating point: a millionth of a cent is not worth refusing a call over.</summary>
    private const double Tolerance = 1e-12;

    private readonly Dictionary<long, Hold> _holds = [];
    // Each admitted call in the last minute, oldest first: when, and its tokens (the worst case until settled).
    private readonly LinkedList<MinuteEntry> _minute = new();
    private readonly Dictionary<long, LinkedListNode<MinuteEntry>> _minuteOfHold = [];
    // Hold ids in the order they were made, for expiring the oldest without looking at every hold.
    private readonly Queue<long> _holdOrder = new();
    // Running totals of the holds' worst costs and the minute's tokens: an admission costs the same at any load.
    private double _heldUsd;
    private long _minuteTokens;
    private KeyAccountState _state;
    private long _nextHold = 1;
    private long _refused;

    public KeyAccount(KeyAccountState state) => _state = state;

    /// <summary>Whether anything kept in state changed since <see cref="Export"/>.</summary>
    public bool Changed { get; private set; }

    public KeyAdmission Reserve(ApiKeySettings settings, string model, double worstCostUsd, long worstTokens, DateTimeOffset now)
    {
        if (!double.IsFinite(worstCostUsd) || worstCostUsd < 0) throw new ArgumentException($"worstCostUsd must be zero or more; got {worstCostUsd}.", nameof(worstCostUsd));
        if (worstTokens < 0) throw new ArgumentException($"worstTokens must be zero or more; got {worstTokens}.", nameof(worstTokens));
        ArgumentException.ThrowIfNullOrEmpty(model);
        Advance(settings, now);
        if (settings.BudgetUsd is { } budget)
        {
            var held = _heldUsd;
            // Reached is refused even for a free call; otherwise the spent, the held and this call's worst case must fit.
            if (_state.SpendUsd >= budget - Tolerance || _state.SpendUsd + held + worstCostUsd > budget + Tolerance)
            {
                var (_, end) = PeriodOf(settings, now);
                var reason = _state.SpendUsd >= budget - Tolerance
                    ? $"The key '{settings.Name}' has spent {_state.SpendUsd:0.######} USD of its {budget:0.######} USD {PeriodName(settings)} budget."
                    : $"The key '{settings.Name}' has {Math.Max(0, budget - _state.SpendUsd - held):0.######} USD left of its {budget:0.######} USD {PeriodName(settings)} budget"
                      + $" ({held:0.######} USD held by calls in flight); this call to {model} may cost up to {worstCostUsd:0.######} USD.";
                return Refuse(KeyRefusals.BudgetExceeded, reason, end is { } e ? e - now : null);
            }
        }
        ExpireMinute(now);
        if (settings.Rpm is { } rpm && _minute.Count >= rpm)
            return Refuse(KeyRefusals.RateLimitExceeded, $"The key '{settings.Name}' is at its {rpm} requests a minute.", _minute.First!.Value.At + Minute - now);
        if (settings.Tpm is { } tpm)
        {
            var tokens = _minuteTokens;
            // A call bigger than the whole limit could never pass: it is admitted alone, into an empty minute.
            if (tokens > 0 && tokens + worstTokens > tpm)
                return Refuse(KeyRefusals.RateLimitExceeded,
                    $"The key '{settings.Name}' has used {tokens} of its {tpm} tokens a minute; this call may use up to {worstTokens}.", WaitForTokens(tpm - worstTokens, now));
        }
        var id = _nextHold++;
        _holds[id] = new Hold(model, worstCostUsd, now);
        _holdOrder.Enqueue(id);
        _heldUsd += worstCostUsd;
        _minuteOfHold[id] = _minute.AddLast(new MinuteEntry(now, worstTokens));
        _minuteTokens += worstTokens;
        return KeyAdmission.Admit(id);
    }

    /// <summary>Releases <paramref name="holdId"/> (when known) and adds the call's cost and tokens to the period.</summary>
    public void Settle(ApiKeySettings settings, long holdId, string model, double costUsd, long inputTokens, long outputTokens, DateTimeOffset now)
    {
        if (!double.IsFinite(costUsd) || costUsd < 0) throw new ArgumentException($"costUsd must be zero or more; got {costUsd}.", nameof(costUsd));
        if (inputTokens < 0 || outputTokens < 0) throw new ArgumentException("Token counts must be zero or more.", inputTokens < 0 ? nameof(inputTokens) : nameof(outputTokens));
        ArgumentException.ThrowIfNullOrEmpty(model);
        Advance(settings, now);
        Release(holdId);
        if (_minuteOfHold.Remove(holdId, out var entry) && entry.List is not null)
        {
            _minuteTokens += inputTokens + outputTokens - entry.Value.Tokens;
            entry.Value = entry.Value with { Tokens = inputTokens + outputTokens };
        }
        Add(model, costUsd, 1, inputTokens, outputTokens);
    }

    public KeyUsage Usage(ApiKeySettings settings, DateTimeOffset now)
    {
        Advance(settings, now);
        ExpireMinute(now);
        var (start, end) = PeriodOf(settings, now);
        return new KeyUsage
        {
            Period = settings.BudgetPeriod ?? BudgetPeriods.Month,
            PeriodStart = start,
            PeriodEnd = end,
            BudgetUsd = settings.BudgetUsd,
            SpendUsd = _state.SpendUsd,
            ReservedUsd = _heldUsd,
            Requests = _state.Requests,
            InputTokens = _state.InputTokens,
            OutputTokens = _state.OutputTokens,
            InFlight = _holds.Count,
            RequestsLastMinute = _minute.Count,
            TokensLastMinute = _minuteTokens,
            Refused = _refused,
            Models = [.. _state.Models.OrderByDescending(m => m.SpendUsd).ThenBy(m => m.Model, StringComparer.Ordinal)
                .Select(m => new KeyModelUsage(m.Model, m.SpendUsd, m.Requests, m.InputTokens, m.OutputTokens))],
        };
    }

    /// <summary>The series of a key's budget alert, in percent of its budget.</summary>
    public const string BudgetSeries = "budget_spend";

    /// <summary>Shares of the budget spent that raise a warning and a critical alert.</summary>
    public const double BudgetWarningShare = 0.8, BudgetCriticalShare = 1.0;

    /// <summary>Events of the key's budget alert not yet delivered, oldest first.</summary>
    public IReadOnlyList<AlertEvent> PendingAlerts => _state.AlertOutbox;

    /// <summary>The events <see cref="PendingAlerts"/> began with, once delivered.</summary>
    public void Delivered(int count)
    {
        _state.AlertOutbox.RemoveRange(0, Math.Min(count, _state.AlertOutbox.Count));
        Changed = true;
    }

    /// <summary>
    /// The key's budget alert after what was spent: warning from 80 % of the budget, critical from 100 %, resolved when a
    /// new period starts or the budget is raised or removed. The event of a change (also kept in <see cref="PendingAlerts"/>), or null.
    /// </summary>
    public AlertEvent? CheckBudget(ApiKeySettings settings, DateTimeOffset now)
    {
        Advance(settings, now);
        var share = settings.BudgetUsd is { } budget and > 0 ? _state.SpendUsd / budget : 0;
        var level = share >= BudgetCriticalShare - Tolerance ? AlertLevel.Critical : share >= BudgetWarningShare - Tolerance ? AlertLevel.Warning : AlertLevel.None;
        var open = _state.BudgetAlert;
        var from = open?.Level ?? AlertLevel.None;
        if (level == from) return null;
        var kind = from == AlertLevel.None ? AlertEventKind.Raised
            : level == AlertLevel.None ? AlertEventKind.Resolved
            : level > from ? AlertEventKind.Escalated : AlertEventKind.DeEscalated;
        var threshold = (kind == AlertEventKind.Resolved ? from : level) == AlertLevel.Critical ? BudgetCriticalShare * 100 : BudgetWarningShare * 100;
        var spent = $"{_state.SpendUsd.ToString("0.######", CultureInfo.InvariantCulture)} USD of its "
            + $"{settings.BudgetUsd?.ToString("0.######", CultureInfo.InvariantCulture) ?? "no"} USD {PeriodName(settings)} budget ({(share * 100).ToString("0.#", CultureInfo.InvariantCulture)}%)";
        var message = kind switch
        {
            AlertEventKind.Resolved when settings.BudgetUsd is null => $"Key '{settings.Name}' has no budget any more: its {AlertLevels.Name(from)} budget alert is resolved.",
            AlertEventKind.Resolved => $"Key '{settings.Name}' has spent {spent}, below {threshold:0}%: its {AlertLevels.Name(from)} budget alert is resolved.",
            AlertEventKind.Raised => $"Key '{settings.Name}' has spent {spent}: {AlertLevels.Name(level)} (threshold {threshold:0}%).",
            _ => $"Key '{settings.Name}' has spent {spent}: moved from {AlertLevels.Name(from)} to {AlertLevels.Name(level)} (threshold {threshold:0}%).",
        };
        var e = new AlertEvent
        {
            AlertId = open?.AlertId ?? $"{AlertSubjects.Key}:{settings.Name}:{BudgetSeries}:{now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff", CultureInfo.InvariantCulture)}",
            Subject = AlertSubjects.Key,
            Node = settings.Name,
            Series = BudgetSeries,
            Metric = BudgetSeries,
            Kind = kind,
            Level = level,
            PreviousLevel = from,
            Value = share * 100,
            Threshold = threshold,
            Timestamp = now,
            Message = message,
        };
        _state.BudgetAlert = ActiveAlert.After(open, e);
        _state.AlertOutbox.Add(e);
        Changed = true;
        return e;
    }

    /// <summary>What is kept: the period's figures. Holds are not (a restarted account admits against what was settled).</summary>
    public KeyAccountState Export()
    {
        Changed = false;
        return _state;
    }

    /// <summary>
    /// The period the settings put <paramref name="now"/> in, in UTC: a calendar day, a calendar month (also for a key
    /// without a budget), or all time for <c>total</c> (no end).
    /// </summary>
    public static (DateTimeOffset Start, DateTimeOffset? End) PeriodOf(ApiKeySettings settings, DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        switch (settings.BudgetUsd is null ? BudgetPeriods.Month : settings.BudgetPeriod ?? BudgetPeriods.Month)
        {
            case BudgetPeriods.Day:
                var day = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
                return (day, day.AddDays(1));
            case BudgetPeriods.Total:
                return (DateTimeOffset.UnixEpoch, null);
            default:
                var month = new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero);
                return (month, month.AddMonths(1));
        }
    }

    private static string PeriodName(ApiKeySettings settings) => settings.BudgetPeriod switch
    {
        BudgetPeriods.Day => "daily",
        BudgetPeriods.Total => "total",
        _ => "monthly",
    };

    private KeyAdmission Refuse(string code, string reason, TimeSpan? retryAfter)
    {
        _refused++;
        return new KeyAdmission(0, code, reason, retryAfter is { } wait ? TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(wait.TotalSeconds))) : null);
    }

    /// <summary>
    /// A new period starts from nothing (holds in flight stay held: they were made in the old period but will be paid in
    /// this one); a hold older than <see cref="HoldLife"/> becomes spend at its worst case.
    /// </summary>
    private void Advance(ApiKeySettings settings, DateTimeOffset now)
    {
        var (start, _) = PeriodOf(settings, now);
        if (_state.PeriodStart != start)
        {
            // The budget alert outlives its period: the next check resolves it against the new period's spend.
            _state = new KeyAccountState { PeriodStart = start, BudgetAlert = _state.BudgetAlert, AlertOutbox = _state.AlertOutbox };
            Changed = true;
        }
        while (_holdOrder.TryPeek(out var id))
        {
            if (!_holds.TryGetValue(id, out var hold)) _holdOrder.Dequeue();
            else if (now - hold.At > HoldLife)
            {
                _holdOrder.Dequeue();
                Release(id);
                _minuteOfHold.Remove(id);
                Add(hold.Model, hold.CostUsd, 1, 0, 0);
            }
            else break;
        }
    }

    private void Release(long holdId)
    {
        if (!_holds.Remove(holdId, out var hold)) return;
        // Exactly zero once nothing is held, so rounding never accumulates across holds.
        _heldUsd = _holds.Count == 0 ? 0 : _heldUsd - hold.CostUsd;
    }

    private void ExpireMinute(DateTimeOffset now)
    {
        while (_minute.First is { } first && now - first.Value.At >= Minute)
        {
            _minuteTokens -= first.Value.Tokens;
            _minute.RemoveFirst();
        }
    }

    /// <summary>When the minute's tokens will have fallen to <paramref name="room"/> or below (at most a minute).</summary>
    private TimeSpan WaitForTokens(long room, DateTimeOffset now)
    {
        var tokens = _minuteTokens;
        foreach (var entry in _minute)
        {
            tokens -= entry.Tokens;
            if (tokens <= Math.Max(0, room)) return entry.At + Minute - now;
        }
        return Minute;
    }

    private void Add(string model, double costUsd, long requests, long inputTokens, long outputTokens)
    {
        _state.SpendUsd += costUsd;
        _state.Requests += requests;
        _state.InputTokens += inputTokens;
        _state.OutputTokens += outputTokens;
        var row = _state.Models.Find(m => m.Model == model);
        if (row is null) _state.Models.Add(row = new KeyAccountModel { Model = model });
        row.SpendUsd += costUsd;
        row.Requests += requests;
        row.InputTokens += inputTokens;
        row.OutputTokens += outputTokens;
        Changed = true;
    }

    private readonly record struct Hold(string Model, double CostUsd, DateTimeOffset At);

    private readonly record struct MinuteEntry(DateTimeOffset At, long Tokens);
}

/// <summary>A key account's stored figures: its period's start and what was settled in it.</summary>
[GenerateSerializer, Alias("kyros.KeyAccountState")]
public sealed class KeyAccountState
{
    [Id(0)] public DateTimeOffset PeriodStart { get; set; }
    [Id(1)] public double SpendUsd { get; set; }
    [Id(2)] public long Requests { get; set; }
    [Id(3)] public long InputTokens { get; set; }
    [Id(4)] public long OutputTokens { get; set; }
    [Id(5)] public List<KeyAccountModel> Models { get; set; } = [];
    /// <summary>The key's open budget alert, if any.</summary>
    [Id(6)] public ActiveAlert? BudgetAlert { get; set; }
    [Id(7)] public List<AlertEvent> AlertOutbox { get; set; } = [];
}

[GenerateSerializer, Alias("kyros.KeyAccountModel")]
public sealed class KeyAccountModel
{
    [Id(0)] public string Model { get; set; } = "";
    [Id(1)] public double SpendUsd { get; set; }
    [Id(2)] public long Requests { get; set; }
    [Id(3)] public long InputTokens { get; set; }
    [Id(4)] public long OutputTokens { get; set; }
}
