using Orleans.Concurrency;

namespace Kyros.Perf.Alerts;

/// <summary>
/// One notification target's durable outbox (key: the target's name): transitions are stored before
/// <see cref="EnqueueAsync"/> returns and sent in order, one at a time, until the target answers 2xx.
/// </summary>
[Alias("kyros.INotificationOutboxGrain")]
public interface INotificationOutboxGrain : IGrainWithStringKey
{
    /// <summary>Stores the transitions the target's filter passes; one it already holds (by id) is not taken twice.</summary>
    [Alias("enqueue")]
    Task EnqueueAsync(IReadOnlyList<NotificationTransition> transitions);

    [AlwaysInterleave, Alias("status")]
    Task<NotificationTargetStatus> GetStatusAsync();

    /// <summary>Activates the outbox (its sender runs while it is active): what every silo calls now and then, so a dead silo's outbox resumes.</summary>
    [AlwaysInterleave, Alias("wake")]
    Task WakeAsync();
}
