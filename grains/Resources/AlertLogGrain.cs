using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Resources;

/// <summary>
/// The cluster's alert log: the active alerts and the latest events in grain state, every event in SQLite.
/// An activation without state (an embedded silo restarted) reloads the latest events from SQLite.
/// </summary>
public sealed class AlertLogGrain(
    [PersistentState("alert-log", KyrosStorage.Name)] IPersistentState<AlertLogState> state,
    SqliteHistoryStore history,
    ClusterHistory clusterHistory,
    IOptions<ResourceOptions> options) : Grain, IAlertLogGrain, IStateWriteBack
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
