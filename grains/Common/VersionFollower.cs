using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Common;

/// <summary>
/// Keeps a silo's copy of a versioned, cluster-wide value (the catalog, the API keys) on the version its grain holds:
/// once the silo is active, a first read (up to <see cref="FirstLoadTimeout"/>, after which the silo serves what it has),
/// then a call kept waiting on the grain for the next version, so a change reaches every silo in the time of one
/// message. After a failure the last version stays in use and the grain is asked again every retry interval. Waiting
/// runs on real time: a test's clock must not hold back a change.
/// </summary>
/// <param name="what">What is followed, for the log.</param>
/// <param name="meanwhile">What the silo serves while the grain cannot be read, for the log.</param>
public abstract class VersionFollower(string what, string meanwhile, ILogger logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>How long start-up waits for the stored value before serving what the silo has (a store that does not answer).</summary>
    public static readonly TimeSpan FirstLoadTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long one waiting call is held by the grain before it is asked again.</summary>
    public static readonly TimeSpan WaitSpan = TimeSpan.FromSeconds(10);

    /// <summary>The version of this silo's copy.</summary>
    protected abstract long Version { get; }

    /// <summary>How long to wait before asking again after a failed read.</summary>
    protected abstract TimeSpan RetryInterval { get; }

    /// <summary>Asks the grain for a version newer than the copy's, waiting up to <paramref name="wait"/> (zero: answer at once), and applies it; true when the copy changed.</summary>
    protected abstract Task<bool> PullNewerAsync(TimeSpan wait);

    /// <summary>Asks once for a newer version and takes it; true when it changed this silo's copy.</summary>
    public Task<bool> PullAsync() => PullNewerAsync(TimeSpan.Zero);

    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(GetType().Name, ServiceLifecycleStage.Active, StartAsync, StopAsync);

    /// <summary>The first read, tried again until <see cref="FirstLoadTimeout"/>; then the following, until the silo stops.</summary>
    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + FirstLoadTimeout;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PullAsync();
                break;
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                if (DateTime.UtcNow > deadline)
                {
                    logger.LogWarning(exception, "The cluster's {What} could not be read within {Timeout}; {Meanwhile} until it can", what, FirstLoadTimeout, meanwhile);
                    break;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)), cancellationToken);
            }
        }
        _ = FollowAsync(_stopping.Token);
    }

    private Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private async Task FollowAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Held by the grain until a change is stored: the change arrives in the time of one message.
                if (await PullNewerAsync(WaitSpan).WaitAsync(stopping)) logger.LogDebug("The {What} now at version {Version}", what, Version);
                failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The last version stays in use; say so once per outage, and ask again after the retry interval.
                if (failures++ == 0) logger.LogWarning(exception, "The cluster's {What} could not be read; version {Version} stays in use", what, Version);
                try
                {
                    await Task.Delay(RetryInterval, stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

public static class VersionFollowerServices
{
    /// <summary>Registers <typeparamref name="TFollower"/> once, as itself (for a caller's <see cref="VersionFollower.PullAsync"/>) and as a silo lifecycle participant.</summary>
    public static IServiceCollection AddVersionFollower<TFollower>(this IServiceCollection services) where TFollower : VersionFollower
    {
        services.AddSingleton<TFollower>();
        return services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<TFollower>());
    }
}
