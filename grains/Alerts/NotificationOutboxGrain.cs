using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>
/// One target's outbox, in cluster storage: the alert log enqueues each transition here before its append returns;
/// a timer sends the entries in order, one at a time, and removes one only after a 2xx, backing off while the target
/// fails. Each try is recorded before it is made, so a re-send after a crash carries the same idempotency key and a
/// higher attempt number (at-least-once with a stable key: docs/alerts.md#delivery).
/// </summary>
public sealed class NotificationOutboxGrain(
    [PersistentState("notification-outbox", KyrosStorage.Name)] IPersistentState<NotificationOutboxState> state,
    IOptions<NotificationOptions> options,
    NotificationSender sender,
    ILocalSiloDetails silo,
    ILogger<NotificationOutboxGrain> logger) : Grain, INotificationOutboxGrain, IStateWriteBack
{
    private const int RecentIdCapacity = 2_000;
    private static readonly TimeSpan StorePause = TimeSpan.FromSeconds(5);
    private readonly HashSet<string> _recent = [];
    private CoalescedWrite _write = null!;
    private NotificationTarget? _target;
    private NotificationEntry? _inFlight;
    private DateTimeOffset _lastRefresh;
    private DateTimeOffset _storeDownUntil;

    // Delivery runs on real time whatever the product's clock: a test's fake clock must not hold back a retry.
    private static DateTimeOffset Now => DateTimeOffset.UtcNow;

    private NotificationOptions Options => options.Value;

    public Task WriteBackAsync(string epoch) => state.RecordExists ? _write.WriteAsync() : Task.CompletedTask;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _target = Options.Target(this.GetPrimaryKeyString());
        _recent.UnionWith(state.State.RecentIds);
        // The sender's writes and the enqueuers' interleave: one write at a time.
        _write = new CoalescedWrite(() => state.WriteStateAsync());
        this.RegisterGrainTimer(PumpAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero, Period = Options.PumpInterval, Interleave = true, KeepAlive = true,
        });
        return Task.CompletedTask;
    }

    public async Task EnqueueAsync(IReadOnlyList<NotificationTransition> transitions)
    {
        if (_target is null) return;
        var changed = false;
        foreach (var transition in transitions)
        {
            if (!_recent.Add(transition.Id)) continue;
            state.State.RecentIds.Add(transition.Id);
            changed = true;
            if (AlertPayloads.For(transition, _target.Filter).Count > 0) state.State.Queue.Add(new NotificationEntry(transition, Now));
        }
        if (!changed) return;
        if (state.State.RecentIds.Count > RecentIdCapacity)
        {
            var old = state.State.RecentIds.Count - RecentIdCapacity;
            _recent.ExceptWith(state.State.RecentIds.Take(old));
            state.State.RecentIds.RemoveRange(0, old);
        }
        DropOverflow();
        await _write.WriteAsync();
    }

    /// <summary>Beyond the bound the oldest entries go, except the one on the wire (its outcome is still to be recorded).</summary>
    private void DropOverflow()
    {
        var overflow = state.State.Queue.Count - Options.MaxQueuedPerTarget;
        if (overflow <= 0) return;
        var from = _inFlight is not null && state.State.Queue.Count > 0 && ReferenceEquals(state.State.Queue[0], _inFlight) ? 1 : 0;
        state.State.Queue.RemoveRange(from, overflow);
        state.State.Dropped += overflow;
        logger.LogWarning("Notification target {Target}: its outbox is full ({Max} entries); dropped the {Count} oldest ({Dropped} so far)",
            _target!.Name, Options.MaxQueuedPerTarget, overflow, state.State.Dropped);
    }

    private async Task PumpAsync()
    {
        if (_target is not { } target || Now < _storeDownUntil) return;
        try
        {
            await SendQueuedAsync(target);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The grain storage failed (Redis away): nothing is tried unrecorded; the pump pauses rather than logging every tick.
            _storeDownUntil = Now + (Options.MaxRetryDelay < StorePause ? Options.MaxRetryDelay : StorePause);
            logger.LogWarning("Notification target {Target}: its outbox could not be stored ({Reason}); sending pauses until {Until}",
                target.Name, e.Message, _storeDownUntil);
        }
    }

    private async Task SendQueuedAsync(NotificationTarget target)
    {
        while (state.State.Queue.Count > 0)
        {
            if (state.State.NextTryAt is { } next && Now < next) return;
            var head = state.State.Queue[0];
            var alerts = AlertPayloads.For(head.Transition, target.Filter);
            state.State.HeadAttempts++;
            await _write.WriteAsync();
            _inFlight = head;
            NotificationPostResult result;
            try
            {
                result = await sender.PostAsync(target.PostUrl, Body(target, head.Transition, alerts), AlertPayloads.IdempotencyKey(target.Name, head.Transition),
                    state.State.HeadAttempts);
            }
            finally
            {
                _inFlight = null;
            }
            if (!result.Delivered)
            {
                state.State.Failed++;
                state.State.LastError = result.Error;
                var wait = NotificationBackoff.After(state.State.HeadAttempts, Options.RetryBaseDelay, Options.MaxRetryDelay);
                state.State.NextTryAt = Now + wait;
                logger.LogWarning("Notification target {Target} ({Kind}): try {Attempt} failed ({Error}); {Queued} queued, next try in {Wait}",
                    target.Name, target.Kind, state.State.HeadAttempts, result.Error, state.State.Queue.Count, wait);
                await _write.WriteAsync();
                return;
            }
            // The head may have been dropped meanwhile (a full outbox): then it is not there to remove.
            if (state.State.Queue.Count > 0 && ReferenceEquals(state.State.Queue[0], head)) state.State.Queue.RemoveAt(0);
            state.State.Sent++;
            state.State.LastSentAt = Now;
            state.State.HeadAttempts = 0;
            state.State.NextTryAt = null;
            foreach (var alert in alerts)
                if (alert.Firing && alert.EndsAt is null) state.State.Firing[alert.Fingerprint] = head.Transition;
                else state.State.Firing.Remove(alert.Fingerprint);
            await _write.WriteAsync();
        }
        if (target.Kind == NotificationKinds.Alertmanager) await RefreshFiringAsync(target);
    }

    /// <summary>
    /// An Alertmanager forgets a firing alert once its endsAt passes: while the outbox is idle, the firing ones are posted
    /// again every <see cref="NotificationOptions.AlertmanagerResendInterval"/> (not entries: a failed refresh waits for the next).
    /// </summary>
    private async Task RefreshFiringAsync(NotificationTarget target)
    {
        if (state.State.Firing.Count == 0 || Now - _lastRefresh < Options.AlertmanagerResendInterval) return;
        _lastRefresh = Now;
        var firing = state.State.Firing
            .SelectMany(f => AlertPayloads.For(f.Value, target.Filter).Where(a => a.Fingerprint == f.Key && a.Firing))
            .ToArray();
        if (firing.Length == 0) return;
        var result = await sender.PostAsync(target.PostUrl, AlertPayloads.AlertmanagerAlerts(firing, Now, 4 * Options.AlertmanagerResendInterval, Options.ExternalUrl), null, 1);
        if (!result.Delivered) logger.LogInformation("Notification target {Target}: re-sending {Count} firing alerts failed ({Error})", target.Name, firing.Length, result.Error);
    }

    private string Body(NotificationTarget target, NotificationTransition transition, IReadOnlyList<NotificationAlert> alerts) => target.Kind switch
    {
        NotificationKinds.Alertmanager => AlertPayloads.AlertmanagerAlerts(alerts, Now, 4 * Options.AlertmanagerResendInterval, Options.ExternalUrl),
        NotificationKinds.Slack => AlertPayloads.Slack(alerts),
        _ => AlertPayloads.Webhook(target.Name, AlertPayloads.IdempotencyKey(target.Name, transition), alerts, Options.ExternalUrl),
    };

    public Task<NotificationTargetStatus> GetStatusAsync() => Task.FromResult(new NotificationTargetStatus
    {
        Name = this.GetPrimaryKeyString(),
        Kind = _target?.Kind ?? "unconfigured",
        Queued = state.State.Queue.Count,
        Sent = state.State.Sent,
        Failed = state.State.Failed,
        Dropped = state.State.Dropped,
        HeadAttempts = state.State.Queue.Count > 0 ? state.State.HeadAttempts : 0,
        LastError = state.State.LastError,
        LastSentAt = state.State.LastSentAt,
        NextTryAt = state.State.Queue.Count > 0 ? state.State.NextTryAt : null,
        Silo = silo.Name,
    });

    public Task WakeAsync() => Task.CompletedTask;
}
