using Kyros.Perf.Catalog;
using Kyros.Perf.Keys;
using Kyros.Perf.Routing;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>
/// The gateway's way through a routing decision, for generations and embeddings alike: each model in the decision's
/// order (the chosen one, then its fallbacks), reserved against its rate limit and settled after; a rate limit or a
/// server error retried on the same model (honouring Retry-After), any other failure moving on to the next; the
/// request's own fault passed back at once. Every attempt is listed, and the whole stays within the deadline. A call
/// made with a run-time key is also held against the key's account (<see cref="KeyCharges"/>) and settled after.
/// </summary>
public sealed class RetryAndFallback(ModelCatalog catalog, RoutingEngine router, KeyCharges charges, IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly GatewayOptions _options = options.Value;

    /// <param name="worstCase">The most a call to the model may use (input, output): reserved against its tokens-per-minute limit and priced for the key's budget.</param>
    /// <param name="call">One call to the model: its result, or how it failed (the call records itself and adds its attempt).</param>
    /// <param name="used">What a result used and cost, which settle the reservations.</param>
    /// <param name="caller">The run-time key whose account admits and pays for each call; null for none.</param>
    public async Task<T> RunAsync<T>(RoutingDecision decision, Func<ModelDescriptor, (long Input, long Output)> worstCase,
        Func<ModelDescriptor, List<Attempt>, Task<(T? Result, ProviderException? Failure)>> call, Func<T, (long Input, long Output, double Cost)> used,
        KeyCaller? caller, CancellationToken cancellationToken)
        where T : class
    {
        var attempts = new List<Attempt>();
        var started = time.GetTimestamp();
        foreach (var modelId in decision.FallbackOrder.Prepend(decision.SelectedModel))
        {
            // The catalog may have changed since the decision: a model removed meanwhile is not called.
            if (catalog.Find(modelId) is not { } model)
            {
                attempts.Add(new Attempt(modelId, false, "not_found", "skipped: removed from the catalog", 0, null));
                continue;
            }
            var worst = worstCase(model);
            var reserved = worst.Input + worst.Output;
            // The decision reserved its chosen model; a fallback reserves its own, or is skipped at its limit.
            if (modelId != decision.SelectedModel && router.Reserve(model, reserved) is { } limited)
            {
                attempts.Add(new Attempt(modelId, false, "rate_limit", $"skipped: {limited}", 0, null));
                continue;
            }
            var reservedAt = time.GetUtcNow();
            long usedTokens = 0;
            KeyHold? hold = null;
            // Until a call ends with an answer or a provider's failure, it may have cost its worst case (a caller that
            // goes away mid-answer still pays for what the model made).
            var spent = (worst.Input, worst.Output, Cost: model.PriceOf(worst.Input, worst.Output));
            try
            {
                if (caller is not null) hold = await charges.ReserveAsync(caller, model.Id, spent.Cost, reserved);
                for (var retry = 0; ; retry++)
                {
                    var (result, failure) = await call(model, attempts);
                    if (result is not null)
                    {
                        spent = used(result);
                        usedTokens = spent.Input + spent.Output;
                        return result;
                    }
                    spent = (0, 0, 0);
                    if (failure!.CallersFault) throw Failed(failure.Message, failure.Status, attempts);
                    var wait = failure.RetryAfter ?? _options.RetryDelay;
                    if (!failure.Retryable || retry >= _options.MaxRetries || wait > _options.MaxRetryAfter) break;
                    if (time.GetElapsedTime(started) + wait > _options.Deadline) break;
                    await Task.Delay(wait, time, cancellationToken);
                }
            }
            finally
            {
                router.Settle(model, reserved, usedTokens, reservedAt);
                // Off the answer's path: until it lands the hold still counts its worst case, so no budget is passed meanwhile.
                if (hold is not null) _ = charges.SettleAsync(hold, spent.Cost, spent.Input, spent.Output);
            }
            if (time.GetElapsedTime(started) > _options.Deadline) break;
        }
        var timeouts = attempts.Count > 0 && attempts.All(a => a.ErrorKind == "timeout");
        throw Failed($"Every candidate failed: {string.Join("; ", attempts.Select(a => $"{a.Model}: {a.Error}"))}", timeouts ? 504 : 502, attempts);
    }

    public static GenerationFailedException Failed(string message, int status, List<Attempt> attempts) => new(message, status, attempts.ToArray());
}
