using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>
/// The exact response cache in front of the gateway (docs/gateway.md, "Response cache"): which requests it keys, reading
/// and writing entries within <see cref="ResponseCacheOptions.Timeout"/> (a store fault or a hung store is a miss, never a
/// failed request), and a hit's answer and record (cost 0, marked a cache hit, with the cost it saved).
/// </summary>
public sealed class ResponseCache(IResponseCacheStore store, ModelCatalog catalog, GatewayRecorder recorder, IOptions<ResponseCacheOptions> options,
    TimeProvider time, ILogger<ResponseCache> logger)
{
    public const string TtlHeader = "x-kyros-cache-ttl";
    public const string StatusHeader = "x-kyros-cache";
    private readonly ResponseCacheOptions _options = options.Value;
    private int _faultsLogged;

    /// <summary>The <c>x-kyros-cache-ttl</c> header: null when absent; whole seconds within 1..86400, or a 400 naming the header.</summary>
    public static int? ParseTtl(string? header)
    {
        if (header is null) return null;
        if (int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds is >= 1 and <= ModelDescriptorValidator.MaxCacheTtlSeconds)
            return seconds;
        throw new ArgumentException($"{TtlHeader} must be whole seconds within 1..{ModelDescriptorValidator.MaxCacheTtlSeconds}; got '{header}'.", TtlHeader);
    }

    /// <summary>The request's cache key, or null when it is not cached: not deterministic, or no TTL from the header nor the catalog could apply.</summary>
    public string? KeyFor(GenerateRequest request, int? headerTtl)
    {
        if (!ResponseCacheKey.IsCacheable(request, headerTtl is not null)) return null;
        if (headerTtl is null)
        {
            var on = request.Model is { } named
                ? catalog.Find(named)?.CacheTtlSeconds is not null
                : catalog.Models.Any(m => m.CacheTtlSeconds is not null);
            if (!on) return null;
        }
        return ResponseCacheKey.Compute(request);
    }

    public async Task<CachedAnswer?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await store.GetAsync(key).WaitAsync(_options.Timeout, time, cancellationToken);
            return bytes is null ? null : JsonSerializer.Deserialize<CachedAnswer>(bytes, KyrosJson.Options);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            Fault("read", e);
            return null;
        }
    }

    /// <summary>Keeps an answer for the header's TTL or its model's; an answer larger than <see cref="ResponseCacheOptions.MaxEntryBytes"/> is not kept.</summary>
    public async Task StoreAsync(string key, int? headerTtl, GenerateResult result)
    {
        if (result.MoreChoices.Count > 0 || (headerTtl ?? catalog.Find(result.Model)?.CacheTtlSeconds) is not { } ttl) return;
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new CachedAnswer(result.Model, result.Text, result.Refusal, result.ToolCalls, result.FinishReason,
            result.Usage.InputTokens, result.Usage.OutputTokens, result.Usage.Source, result.Cost, result.Simulated), KyrosJson.Options);
        if (bytes.Length > _options.MaxEntryBytes) return;
        try
        {
            await store.SetAsync(key, bytes, TimeSpan.FromSeconds(ttl)).WaitAsync(_options.Timeout, time);
        }
        catch (Exception e)
        {
            Fault("write", e);
        }
    }

    /// <summary>A hit as the gateway's result, recorded off the answer's path: cost 0, a cache hit, the original call's cost saved.</summary>
    public GenerateResult Answer(CachedAnswer answer, GenerateRequest request, string key, long startedTimestamp)
    {
        var now = time.GetUtcNow();
        var requestId = RequestIds.Create(answer.Model, now);
        var latency = time.GetElapsedTime(startedTimestamp).TotalSeconds;
        recorder.Enqueue(new ModelPerformanceRecord(answer.Model, null, now, latency, latency, answer.InputTokens, answer.OutputTokens, true, null, 0, null, requestId)
            { ToolCalls = answer.ToolCalls.Count, CacheHit = true, CostSaved = Math.Min(answer.Cost, RecordValidator.MaxCost) });
        var decision = new RoutingDecision("cache." + key[..32], answer.Model, request.Strategy, 1, "answered from the response cache", RoutingWeights.For(request.Strategy),
            [], [], [], answer.InputTokens, 0, 0);
        return new GenerateResult
        {
            RequestId = requestId,
            Model = answer.Model,
            Text = answer.Text,
            Decision = decision,
            Usage = new TokenUsage(answer.InputTokens, answer.OutputTokens, answer.UsageSource),
            LatencySeconds = latency,
            TtftSeconds = latency,
            Cost = 0,
            Attempts = [],
            Simulated = answer.Simulated,
            FinishReason = answer.FinishReason,
            ToolCalls = answer.ToolCalls,
            Refusal = answer.Refusal,
        };
    }

    private void Fault(string what, Exception e)
    {
        // A store that is down fails every call: warned once, then at debug.
        if (Interlocked.Exchange(ref _faultsLogged, 1) == 0)
            logger.LogWarning("The response cache's {What} failed; answering as a miss: {Reason}", what, e.Message);
        else logger.LogDebug("The response cache's {What} failed; answering as a miss: {Reason}", what, e.Message);
    }
}
