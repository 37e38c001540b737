using Kyros.Perf.Catalog;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Gateway;

/// <summary>Feedback finds its model and time in the request id, and lands in that model's statistics.</summary>
public static class Feedback
{
    /// <summary>How long a just-served request may take to reach the log (the gateway records off the response path).</summary>
    private static readonly TimeSpan InFlight = TimeSpan.FromSeconds(10);

    public static async Task<FeedbackResult> RecordAsync(IGrainFactory grains, ModelCatalog catalog, TimeProvider time, string requestId, double score)
    {
        GatewayValidator.ValidateFeedback(requestId, score);
        if (!RequestIds.TryParse(requestId, out var model, out var at) || !catalog.IsRecordable(model)) return FeedbackResult.UnknownRequest;
        var grain = grains.GetGrain<IModelStatsGrain>(model);
        while (true)
        {
            var result = await grain.RecordFeedbackAsync(requestId, at, score);
            if (result != FeedbackResult.UnknownRequest || time.GetUtcNow() - at > InFlight) return result;
            await Task.Delay(TimeSpan.FromMilliseconds(50), time);
        }
    }
}
