using Kyros.Perf.Catalog;

namespace Kyros.Perf.Gateway;

/// <summary>Feedback finds its model and time in the request id, and lands in that model's statistics.</summary>
public static class Feedback
{
    public static Task<FeedbackResult> RecordAsync(IGrainFactory grains, ModelCatalog catalog, string requestId, double score)
    {
        GatewayValidator.ValidateFeedback(requestId, score);
        if (!RequestIds.TryParse(requestId, out var model, out var at) || !catalog.Contains(model)) return Task.FromResult(FeedbackResult.UnknownRequest);
        return grains.GetGrain<IModelStatsGrain>(model).RecordFeedbackAsync(requestId, at, score);
    }
}
