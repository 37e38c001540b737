using Kyros.Perf.Gateway;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Client;

/// <summary>The gateway: generation and embeddings with routing, and feedback on what came back.</summary>
public sealed partial class KyrosPerfClient
{
    /// <summary>
    /// Routes, calls the model (retrying and falling back as needed) and records what happened. Throws
    /// <see cref="GenerationFailedException"/> when every model failed or the provider refused the request, and
    /// <see cref="Routing.NoCandidateException"/> when no model passes the filters.
    /// </summary>
    public Task<GenerateResult> GenerateAsync(GenerateRequest request)
    {
        GatewayValidator.Validate(request);
        return Call(() => Cluster.GetGrain<IGatewayGrain>(0).GenerateAsync(request));
    }

    /// <summary>
    /// Embeds each input with one of the catalog's embedding models (routed, or the one named), retrying and falling back
    /// as a generation does, and records the call. Throws <see cref="ArgumentException"/> naming the field for bad input,
    /// <see cref="GenerationFailedException"/> when every model failed or the provider refused the request.
    /// </summary>
    public Task<EmbedResult> EmbedAsync(EmbedRequest request)
    {
        EmbeddingValidator.Validate(request);
        return Call(() => Cluster.GetGrain<IGatewayGrain>(0).EmbedAsync(request));
    }

    /// <summary>A quality score (0-1) for a request the gateway served; false when it already had one (the first stands).</summary>
    public async Task<bool> FeedbackAsync(string requestId, double score)
    {
        GatewayValidator.ValidateFeedback(requestId, score);
        return await Call(() => Cluster.GetGrain<IGatewayGrain>(0).FeedbackAsync(requestId, score)) switch
        {
            FeedbackResult.Recorded => true,
            FeedbackResult.Duplicate => false,
            _ => throw new ArgumentException($"request_id '{requestId}' is unknown, or older than the recent-record log keeps.", "request_id"),
        };
    }
}
