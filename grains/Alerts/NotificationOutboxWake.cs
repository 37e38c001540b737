using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>
/// Wakes every target's outbox from each silo now and then: an outbox whose silo died holds entries but has no caller,
/// and its sender runs only while it is active.
/// </summary>
public sealed class NotificationOutboxWake(IGrainFactory grains, IOptions<NotificationOptions> options, ILogger<NotificationOutboxWake> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(NotificationOutboxWake), ServiceLifecycleStage.Active, StartAsync, StopAsync);

    private Task StartAsync(CancellationToken cancellationToken)
    {
        var targets = options.Value.Targets();
        if (targets.Count == 0) return Task.CompletedTask;
        _ = PeriodicWork.RunAsync(options.Value.WakeInterval, TimeProvider.System,
            () => Task.WhenAll(targets.Select(t => grains.GetGrain<INotificationOutboxGrain>(t.Name).WakeAsync())),
            e => logger.LogDebug("Waking the notification outboxes failed (next try in {Interval}): {Reason}", options.Value.WakeInterval, e.Message),
            _stopping.Token);
        return Task.CompletedTask;
    }

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }
}
