using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Keys;

/// <summary>Keeps this silo's <see cref="ApiKeyRing"/> on the key directory's version.</summary>
public sealed class ApiKeySync(IGrainFactory grains, ApiKeyRing ring, IOptions<KeyDirectoryOptions> options, ILogger<ApiKeySync> logger)
    : VersionFollower("API keys", "only configured keys are accepted", logger)
{
    protected override long Version => ring.Version;

    protected override TimeSpan RetryInterval => options.Value.SyncInterval;

    protected override async Task<bool> PullNewerAsync(TimeSpan wait) => await grains.GetGrain<IApiKeyDirectoryGrain>(0).WaitForNewerAsync(ring.Version, wait) is { } newer && ring.Apply(newer);
}
