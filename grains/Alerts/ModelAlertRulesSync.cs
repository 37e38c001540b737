using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>Keeps this silo's <see cref="ModelAlertRuleBook"/> on the rules grain's version (<see cref="VersionFollower"/>).</summary>
public sealed class ModelAlertRulesSync : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly VersionFollower _follower;

    public ModelAlertRulesSync(IGrainFactory grains, ModelAlertRuleBook book, IOptions<AlertOptions> options, ILogger<ModelAlertRulesSync> logger) =>
        _follower = new VersionFollower("model alert rules", "the default rules apply",
            async wait => await grains.GetGrain<IModelAlertRulesGrain>(0).WaitForNewerAsync(book.Current.Version, wait) is { } newer && book.Apply(newer),
            () => book.Current.Version, () => options.Value.RulesSyncInterval, logger);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ModelAlertRulesSync), ServiceLifecycleStage.Active, ct => _follower.StartAsync(ct, _stopping.Token), StopAsync);

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }
}
