using Kyros.Perf.Routing;

namespace Kyros.Perf.Client;

/// <summary>
/// Coalesces concurrent routing calls. While <c>maxInFlight</c> calls to the router are out, new requests wait and
/// leave together, up to <c>maxBatch</c> in one <see cref="IRouterGrain.SelectModelsAsync"/>; a caller alone goes at
/// once, alone, so coalescing adds no wait when there is no concurrency. A decision's cost is mostly its messages, so
/// under load one message for many decisions raises the decisions per second a client and a silo can carry.
/// </summary>
internal sealed class DecisionCoalescer
{
    private readonly IRouterGrain _router;
    private readonly int _maxInFlight;
    private readonly int _maxBatch;
    private readonly Lock _lock = new();
    private readonly Queue<Pending> _waiting = new();
    private int _inFlight;

    public DecisionCoalescer(IRouterGrain router, int maxInFlight, int maxBatch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxInFlight, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        (_router, _maxInFlight, _maxBatch) = (router, maxInFlight, maxBatch);
    }

    public Task<RoutingDecision> DecideAsync(RoutingRequest request)
    {
        var pending = new Pending(request);
        lock (_lock)
        {
            _waiting.Enqueue(pending);
            if (_inFlight >= _maxInFlight) return pending.Task;
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
                batch = new Pending[Math.Min(_waiting.Count, _maxBatch)];
                for (var i = 0; i < batch.Length; i++) batch[i] = _waiting.Dequeue();
            }
            try
            {
                if (batch.Length == 1)
                {
                    batch[0].TrySetResult(await _router.SelectModelAsync(batch[0].Request));
                    continue;
                }
                var outcomes = await _router.SelectModelsAsync(Array.ConvertAll(batch, p => p.Request));
                if (outcomes.Length != batch.Length)
                    throw new InvalidOperationException($"The router answered {outcomes.Length} outcomes for {batch.Length} requests.");
                for (var i = 0; i < batch.Length; i++)
                {
                    if (outcomes[i].Decision is { } decision) batch[i].TrySetResult(decision);
                    else batch[i].TrySetException(outcomes[i].Error ?? new InvalidOperationException("The router answered neither a decision nor an error."));
                }
            }
            catch (Exception exception)
            {
                // The call itself failed (the cluster did not answer): every caller still waiting hears it.
                foreach (var pending in batch) pending.TrySetException(exception);
            }
        }
    }

    private sealed class Pending(RoutingRequest request) : TaskCompletionSource<RoutingDecision>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public RoutingRequest Request { get; } = request;
    }
}
