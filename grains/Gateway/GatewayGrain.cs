using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Kyros.Perf.Stats;
using Orleans.Concurrency;

namespace Kyros.Perf.Gateway;

/// <summary>The gateway for SDK callers, on every silo; the HTTP API uses the same <see cref="ModelGateway"/> and <see cref="EmbeddingGateway"/> directly.</summary>
// Reentrant: a call waits on a model for seconds; the worker serves other calls meanwhile.
[StatelessWorker, Reentrant]
public sealed class GatewayGrain(ModelGateway gateway, EmbeddingGateway embeddings, ModelCatalog catalog, TimeProvider time) : Grain, IGatewayGrain
{
    public Task<GenerateResult> GenerateAsync(GenerateRequest request) => gateway.GenerateAsync(request, null, null, CancellationToken.None);

    public Task<EmbedResult> EmbedAsync(EmbedRequest request) => embeddings.EmbedAsync(request, null, CancellationToken.None);

    public Task<FeedbackResult> FeedbackAsync(string requestId, double score) => Feedback.RecordAsync(GrainFactory, catalog, time, requestId, score);
}
