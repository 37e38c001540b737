using Kyros.Perf.Gateway;

namespace Kyros.Perf;

/// <summary>Generation for SDK callers (a stateless worker on every silo): route, call the model, record what happened.</summary>
[Alias("kyros.IGatewayGrain")]
public interface IGatewayGrain : IGrainWithIntegerKey
{
    [Alias("generate")]
    Task<GenerateResult> GenerateAsync(GenerateRequest request);

    /// <summary>A quality score (0-1) for an earlier request; false when the request already had one.</summary>
    [Alias("feedback")]
    Task<bool> FeedbackAsync(string requestId, double score);
}
