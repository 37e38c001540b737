using Kyros.Perf.Resources;

namespace Kyros.Perf.Alerts;

/// <summary>The kinds of notification target (<c>Kyros:Notifications</c>): each speaks its receiver's format.</summary>
public static class NotificationKinds
{
    public const string Webhook = "webhook", Alertmanager = "alertmanager", Slack = "slack";
}

/// <summary>
/// One alert transition to notify: the log's event and when its alert started (the open alert's start, or the event's
/// own time for a new one), which receivers show as <c>startsAt</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.NotificationTransition")]
public sealed record NotificationTransition([property: Id(0)] AlertEvent Event, [property: Id(1)] DateTimeOffset StartedAt)
{
    /// <summary>Names this transition alone, in every process: re-sends of it carry the same id.</summary>
    public string Id => $"{Event.AlertId}|{Event.Kind}|{Event.Timestamp.UtcTicks}";
}

/// <summary>
/// How one notification target is doing. Never holds the target's URL (a Slack URL carries its token): the last error is
/// a summary such as <c>HTTP 503</c> or <c>timed out after 10 s</c>.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.NotificationTargetStatus")]
public sealed record NotificationTargetStatus
{
    [Id(0)] public required string Name { get; init; }
    /// <summary>One of <see cref="NotificationKinds"/>; <c>unconfigured</c> for an outbox whose target left the configuration.</summary>
    [Id(1)] public required string Kind { get; init; }
    [Id(2)] public int Queued { get; init; }
    [Id(3)] public long Sent { get; init; }
    /// <summary>Attempts that did not end in a 2xx (each retry counts).</summary>
    [Id(4)] public long Failed { get; init; }
    /// <summary>Entries dropped, oldest first, because the outbox was full.</summary>
    [Id(5)] public long Dropped { get; init; }
    /// <summary>Attempts so far at the entry at the head of the queue.</summary>
    [Id(6)] public int HeadAttempts { get; init; }
    [Id(7)] public string? LastError { get; init; }
    [Id(8)] public DateTimeOffset? LastSentAt { get; init; }
    [Id(9)] public DateTimeOffset? NextTryAt { get; init; }
    /// <summary>The silo the target's outbox is active on (its sends leave from there).</summary>
    [Id(10)] public string? Silo { get; init; }
}
