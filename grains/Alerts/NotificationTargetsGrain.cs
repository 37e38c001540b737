using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Kyros.Perf.Alerts;

/// <summary>Asks every configured target's outbox for its status, on the calling silo (the configuration is every silo's).</summary>
[StatelessWorker]
public sealed class NotificationTargetsGrain(IOptions<NotificationOptions> options) : Grain, INotificationTargetsGrain
{
    public async Task<IReadOnlyList<NotificationTargetStatus>> GetTargetsAsync() =>
        await Task.WhenAll(options.Value.Targets().Select(t => GrainFactory.GetGrain<INotificationOutboxGrain>(t.Name).GetStatusAsync()));
}
