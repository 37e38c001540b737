using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>Keeps this silo's <see cref="ModelAlertRuleBook"/> on the rules grain's version.</summary>
public sealed class ModelAlertRulesSync(IGrainFactory grains, ModelAlertRuleBook book, IOptions<AlertOptions> options, ILogger<ModelAlertRulesSync> logger)
    : VersionFollower("model alert rules", "the default rules apply", logger)
{
    protected override long Version => book.Current.Version;

    protected override TimeSpan RetryInterval => options.Value.RulesSyncInterval;

    protected override async Task<bool> PullNewerAsync(TimeSpan wait) => await grains.GetGrain<IModelAlertRulesGrain>(0).WaitForNewerAsync(book.Current.Version, wait) is { } newer && book.Apply(newer);
}
