using Kyros.Perf.Routing;

namespace Kyros.Perf.Client;

/// <summary>
/// Coalesces concurrent routing calls. While <c>maxInFlight</c> calls to the router are out, new requests wait and
/// leave together, up to <c>maxBatch</c> in one <see cref="IRouterGrain.SelectModelsAsync"/>; a caller alone goes at
/// once, alone, so coalescing adds no wait when there is no concurrency. A decision's cost is mostly its messages, so
/// under load one message for many decisions raises the decisions per second a client and a silo can carry.
/// </summary>
internal sealed class DecisionCoalescer(IRouterGrain router, int maxInFlight, int maxBatch)
{
    private readonly Lock _lock = new();
    private readonly Queue<Pending> _waiting = new();
    private int _inFlight;

    public Task<RoutingDecision> DecideAsync(RoutingRequest request)
    {
        var pending = new Pending(request);
        lock (_lock)
        {
            _waiting.Enqueue(pending);
            if (_inFlight >= maxInFlight) return pending.Task;
            _inFlight++;
        }
        _ = SendAsync();
        return pending.Task;
    }

    /// <summary>Sends what waits, batch after batch, until nothing does; each running loop is one call in flight.</summary>
    private async Task SendAsync()
    {
        while (true)
        {
            Pending[] batch;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    _inFlight--;
                    return;
                }
                batch = new Pending[Math.Min(_waiting.Count, maxBatch)];
                for (var i = 0; i < batch.Length; i++) batch[i] = _waiting.Dequeue();
            }
            try
            {
                if (batch.Length == 1)
                {
                    batch[0].SetResult(await router.SelectModelAsync(batch[0].Request));
                    continue;
                }
                var outcomes = await router.SelectModelsAsync(Array.ConvertAll(batch, p => p.Request));
                for (var i = 0; i < batch.Length; i++)
                {
                    if (outcomes[i].Decision is { } decision) batch[i].SetResult(decision);
                    else batch[i].SetException(outcomes[i].Error!);
                }
            }
            catch (Exception exception)
            {
                // The call itself failed (the cluster did not answer, or one request broke the batch): every caller hears it.
                foreach (var pending in batch) pending.SetException(exception);
            }
        }
    }

    private sealed class Pending(RoutingRequest request) : TaskCompletionSource<RoutingDecision>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public RoutingRequest Request { get; } = request;
    }
}
