namespace Kyros.Perf.Alerts;

/// <summary>Every configured notification target's status (a stateless worker on the calling silo, key 0).</summary>
[Alias("kyros.INotificationTargetsGrain")]
public interface INotificationTargetsGrain : IGrainWithIntegerKey
{
    [Alias("list")]
    Task<IReadOnlyList<NotificationTargetStatus>> GetTargetsAsync();
}
