using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Common;

/// <summary>
/// Keeps a silo's copy of a versioned, cluster-wide value (the catalog, the API keys) on the version its grain holds:
/// once the silo is active, a first read (up to <see cref="FirstLoadTimeout"/>, after which the silo serves what it has),
/// then a call kept waiting on the grain for the next version, so a change reaches every silo in the time of one
/// message. After a failure the last version stays in use and the grain is asked again every retry interval. Waiting
/// runs on real time: a test's clock must not hold back a change.
/// </summary>
/// <param name="pullNewer">Asks the grain for a version newer than the copy's, waiting up to the span given (zero: answer at once), and applies it; true when the copy changed.</param>
public sealed class VersionFollower(string what, string meanwhile, Func<TimeSpan, Task<bool>> pullNewer, Func<long> version, Func<TimeSpan> retryInterval, ILogger logger)
{
    /// <summary>How long start-up waits for the stored value before serving what the silo has (a store that does not answer).</summary>
    public static readonly TimeSpan FirstLoadTimeout = TimeSpan.FromSeconds(15);

    /// <summary>How long one waiting call is held by the grain before it is asked again.</summary>
    public static readonly TimeSpan WaitSpan = TimeSpan.FromSeconds(10);

    /// <summary>Asks once for a newer version and takes it; true when it changed this silo's copy.</summary>
    public Task<bool> PullAsync() => pullNewer(TimeSpan.Zero);

    /// <summary>The first read, tried again until <see cref="FirstLoadTimeout"/>; then the following, until <paramref name="stopping"/>.</summary>
    public async Task StartAsync(CancellationToken cancellationToken, CancellationToken stopping)
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
        _ = FollowAsync(stopping);
    }

    private async Task FollowAsync(CancellationToken stopping)
    {
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                // Held by the grain until a change is stored: the change arrives in the time of one message.
                if (await pullNewer(WaitSpan).WaitAsync(stopping)) logger.LogDebug("The {What} now at version {Version}", what, version());
                failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                // The last version stays in use; say so once per outage, and ask again after the retry interval.
                if (failures++ == 0) logger.LogWarning(exception, "The cluster's {What} could not be read; version {Version} stays in use", what, version());
                try
                {
                    await Task.Delay(retryInterval(), stopping);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
