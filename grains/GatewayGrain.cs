using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Orleans.Concurrency;

namespace Kyros.Perf;

/// <summary>The gateway for SDK callers, on every silo; the HTTP API uses the same <see cref="ModelGateway"/> directly.</summary>
[StatelessWorker]
public sealed class GatewayGrain(ModelGateway gateway, ModelCatalog catalog) : Grain, IGatewayGrain
{
    public Task<GenerateResult> GenerateAsync(GenerateRequest request) => gateway.GenerateAsync(request, null, CancellationToken.None);

    public Task<FeedbackResult> FeedbackAsync(string requestId, double score) => Feedback.RecordAsync(GrainFactory, catalog, requestId, score);
}
