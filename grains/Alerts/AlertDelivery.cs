using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;

namespace Kyros.Perf.Alerts;

/// <summary>How every subject's alert events go out: appended to the alert log, then published on the alert stream.</summary>
public static class AlertDelivery
{
    public static IAsyncStream<AlertEvent> Stream(this Grain grain) =>
        grain.GetStreamProvider(AlertStreams.Provider).GetStream<AlertEvent>(StreamId.Create(AlertStreams.Namespace, AlertStreams.All));

    /// <summary>
    /// Sends <paramref name="pending"/>; false when the log or the stream did not take them (the caller keeps them for its
    /// next try: the log drops an event it already holds, so a re-send does not double it).
    /// </summary>
    public static async Task<bool> TryDeliverAsync(IGrainFactory grains, IAsyncStream<AlertEvent> stream, IReadOnlyList<AlertEvent> pending, ILogger logger, string owner)
    {
        try
        {
            await grains.GetGrain<IAlertLogGrain>(0).AppendAsync(pending);
            foreach (var alert in pending) await stream.OnNextAsync(alert);
            return true;
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or Microsoft.Data.Sqlite.SqliteException)
        {
            logger.LogWarning("Delivering {Count} alert events of {Owner} failed; they are kept for the next try: {Reason}", pending.Count, owner, e.Message);
            return false;
        }
    }
}
