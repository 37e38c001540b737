namespace Kyros.Perf.Alerts;

[GenerateSerializer, Alias("kyros.NotificationOutboxState")]
public sealed class NotificationOutboxState
{
    /// <summary>Oldest first; the head is the one being sent.</summary>
    [Id(0)] public List<NotificationEntry> Queue { get; set; } = [];
    /// <summary>The ids of the latest transitions taken, oldest first: one offered again is not queued twice.</summary>
    [Id(1)] public List<string> RecentIds { get; set; } = [];
    [Id(2)] public long Sent { get; set; }
    [Id(3)] public long Failed { get; set; }
    [Id(4)] public long Dropped { get; set; }
    /// <summary>Tries at the head so far, written before each try: after a crash mid-send the re-send says it is one.</summary>
    [Id(5)] public int HeadAttempts { get; set; }
    [Id(6)] public string? LastError { get; set; }
    [Id(7)] public DateTimeOffset? LastSentAt { get; set; }
    [Id(8)] public DateTimeOffset? NextTryAt { get; set; }
    /// <summary>An Alertmanager target's alerts firing now, by fingerprint: what is re-sent on its interval.</summary>
    [Id(9)] public Dictionary<string, NotificationTransition> Firing { get; set; } = [];
}

[GenerateSerializer, Immutable, Alias("kyros.NotificationEntry")]
public sealed record NotificationEntry([property: Id(0)] NotificationTransition Transition, [property: Id(1)] DateTimeOffset QueuedAt);
