using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Catalog;

/// <summary>Keeps this silo's <see cref="ModelCatalog"/> on the catalog grain's version.</summary>
public sealed class CatalogSync(IGrainFactory grains, ModelCatalog catalog, IOptions<ModelCatalogOptions> options, ILogger<CatalogSync> logger)
    : VersionFollower("catalog", "serving the configured catalog", logger)
{
    protected override long Version => catalog.Current.Version;

    protected override TimeSpan RetryInterval => options.Value.SyncInterval;

    protected override async Task<bool> PullNewerAsync(TimeSpan wait) => await grains.GetGrain<IModelCatalogGrain>(0).WaitForNewerAsync(catalog.Current.Version, wait) is { } newer && catalog.Apply(newer);
}
