using Kyros.Perf.Gateway;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Gateway;

/// <summary>Generation for SDK callers (a stateless worker on every silo): route, call the model, record what happened.</summary>
[Alias("kyros.IGatewayGrain")]
public interface IGatewayGrain : IGrainWithIntegerKey
{
    /// <summary>Throws <see cref="GenerationFailedException"/> when every model failed or the provider refused the request.</summary>
    [ResponseTimeout("00:10:00"), Alias("generate")]
    Task<GenerateResult> GenerateAsync(GenerateRequest request);

    /// <summary>One vector per input; throws <see cref="GenerationFailedException"/> when every model failed or the provider refused the request.</summary>
    [ResponseTimeout("00:10:00"), Alias("embed")]
    Task<EmbedResult> EmbedAsync(EmbedRequest request);

    /// <summary>A quality score (0-1) for a request the gateway served, recorded as that request's quality.</summary>
    [Alias("feedback")]
    Task<FeedbackResult> FeedbackAsync(string requestId, double score);
}
