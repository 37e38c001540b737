using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Keys;

/// <summary>Keeps this silo's <see cref="ApiKeyRing"/> on the key directory's version (<see cref="VersionFollower"/>).</summary>
public sealed class ApiKeySync : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly VersionFollower _follower;

    public ApiKeySync(IGrainFactory grains, ApiKeyRing ring, IOptions<KeyDirectoryOptions> options, ILogger<ApiKeySync> logger) =>
        _follower = new VersionFollower("API keys", "only configured keys are accepted",
            async wait => await grains.GetGrain<IApiKeyDirectoryGrain>(0).WaitForNewerAsync(ring.Version, wait) is { } newer && ring.Apply(newer),
            () => ring.Version, () => options.Value.SyncInterval, logger);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ApiKeySync), ServiceLifecycleStage.Active, ct => _follower.StartAsync(ct, _stopping.Token), StopAsync);

    /// <summary>Asks once for a newer version and takes it; true when it changed this silo's copy.</summary>
    public Task<bool> PullAsync() => _follower.PullAsync();

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }
}
