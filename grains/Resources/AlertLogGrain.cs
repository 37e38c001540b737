using Kyros.Perf.Alerts;
using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Resources;

/// <summary>
/// The cluster's alert log: the active alerts and the latest events in grain state, every event in SQLite.
/// An activation without state (an embedded silo restarted) reloads the latest events from SQLite. New events are
/// handed to every notification target's outbox before the append returns (docs/alerts.md#notifications).
/// </summary>
public sealed class AlertLogGrain(
    [PersistentState("alert-log", KyrosStorage.Name)] IPersistentState<AlertLogState> state,
    SqliteHistoryStore history,
    ClusterHistory clusterHistory,
    IOptions<ResourceOptions> options,
    IOptions<NotificationOptions> notifications) : Grain, IAlertLogGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.RecordExists) return;
        var recent = await history.QueryAlertsAsync(since: null, options.Value.AlertLogCapacity, cancellationToken);
        foreach (var alert in recent.Reverse()) Apply(alert);
        // A full page may have older events behind it: those are read from SQLite when asked for.
        state.State.Truncated = recent.Count >= options.Value.AlertLogCapacity;
    }

    public async Task AppendAsync(IReadOnlyList<AlertEvent> events)
    {
        // A host re-sends what it could not confirm delivered: events already here are not taken twice.
        var recent = state.State.Events.TakeLast(1_000).Select(Key).ToHashSet();
        events = events.Where(e => !recent.Contains(Key(e))).ToArray();
        if (events.Count == 0) return;
        // Before the events are taken here: should this append fail, the caller's re-send enqueues them again (an
        // outbox drops a transition it holds), and once it returns every target has them stored.
        var transitions = Transitions(events);
        await Task.WhenAll(notifications.Value.Targets().Select(t => GrainFactory.GetGrain<INotificationOutboxGrain>(t.Name).EnqueueAsync(transitions)));
        await history.AppendAlertsAsync(events);
        foreach (var alert in events) Apply(alert);
        var overflow = state.State.Events.Count - options.Value.AlertLogCapacity;
        if (overflow > 0)
        {
            state.State.Events.RemoveRange(0, overflow);
            state.State.Truncated = true;
        }
        await state.WriteStateAsync();
    }

    public async Task<AlertLogPage> QueryAsync(AlertQuery query)
    {
        if (query.Limit is < 1 or > 10_000) throw new ArgumentException($"limit must be within 1..10000; got {query.Limit}.", "limit");
        if (query.Node is not null) ResourceValidator.RequireNodeName(query.Node);
        var active = state.State.Active.Values
            .Where(a => query.Node is null || a.Node == query.Node)
            .Where(a => query.MinimumLevel is null || a.Level >= query.MinimumLevel)
            .OrderByDescending(a => a.Level).ThenBy(a => a.Node, StringComparer.Ordinal).ThenBy(a => a.Series, StringComparer.Ordinal)
            .ToArray();
        if (query.ActiveOnly) return new AlertLogPage(active, []);

        // Older than what the state keeps: SQLite has it.
        IEnumerable<AlertEvent> source = state.State.Events;
        if (query.Since is { } since && state.State.Truncated && (state.State.Events.Count == 0 || since < state.State.Events[0].Timestamp))
            source = (await clusterHistory.AlertsAsync(since, 100_000)).Reverse();
        var events = source
            .Where(e => query.Matches(e) && (query.Since is null || e.Timestamp >= query.Since))
            .Reverse()
            .Take(query.Limit)
            .ToArray();
        return new AlertLogPage(active, events);
    }

    /// <summary>Each event with when its alert started: the open alert's start, or (for a new one) the event's own time.</summary>
    private NotificationTransition[] Transitions(IReadOnlyList<AlertEvent> events)
    {
        // Within the batch: an alert opened or resolved by an earlier event (null: none open).
        var started = new Dictionary<string, DateTimeOffset?>();
        return events.Select(e =>
        {
            var key = $"{e.Node}|{e.Series}";
            var since = (started.TryGetValue(key, out var s) ? s : state.State.Active.GetValueOrDefault(key)?.Since) ?? e.Timestamp;
            if (e.Kind == AlertEventKind.Resolved) started[key] = null;
            else if (e.Kind != AlertEventKind.Notice) started[key] = since;
            return new NotificationTransition(e, e.Kind == AlertEventKind.Notice ? e.Timestamp : since);
        }).ToArray();
    }

    private static (string, AlertEventKind, DateTimeOffset) Key(AlertEvent e) => (e.AlertId, e.Kind, e.Timestamp);

    private void Apply(AlertEvent alert)
    {
        state.State.Events.Add(alert);
        var key = $"{alert.Node}|{alert.Series}";
        // A notice (a pattern, a new GPU) opens no alert.
        if (alert.Kind == AlertEventKind.Notice) return;
        if (ActiveAlert.After(state.State.Active.GetValueOrDefault(key), alert) is { } after) state.State.Active[key] = after;
        else state.State.Active.Remove(key);
    }
}
