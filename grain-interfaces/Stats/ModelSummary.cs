
namespace Kyros.Perf.Stats;

/// <summary>
/// A model's figures over a window. Every figure that rests on samples says how many;
/// percentiles are null (not zero) when there is nothing to rest them on.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelSummary")]
public sealed record ModelSummary(
    [property: Id(0)] string Model,
    [property: Id(1)] string Window,
    [property: Id(2)] DateTimeOffset WindowStart,
    [property: Id(3)] DateTimeOffset WindowEnd,
    [property: Id(4)] long Count,
    [property: Id(5)] long SuccessCount,
    [property: Id(6)] double ErrorRate,
    [property: Id(7)] IReadOnlyDictionary<string, long> ErrorsByKind,
    [property: Id(8)] LatencySummary Latency,
    [property: Id(9)] TtftSummary Ttft,
    [property: Id(10)] long InputTokens,
    [property: Id(11)] long OutputTokens,
    [property: Id(12)] ThroughputSummary Throughput,
    [property: Id(13)] CostSummary Cost,
    [property: Id(14)] QualitySummary Quality,
    [property: Id(15)] DateTimeOffset? FirstTimestamp,
    [property: Id(16)] DateTimeOffset? LastTimestamp,
    [property: Id(17)] string? Instance = null)
{
    /// <summary>Tool calls the model made in the window's answers.</summary>
    [Id(18)] public long ToolCalls { get; init; }

    /// <summary>Requests answered from the response cache (part of <see cref="Count"/>).</summary>
    [Id(19)] public long CacheHits { get; init; }
    /// <summary><see cref="CacheHits"/> over <see cref="Count"/>; 0 when there were no requests.</summary>
    [Id(20)] public double CacheHitRate { get; init; }
    /// <summary>What the cache hits would have cost had the model been called (the cost of the calls that filled the entries).</summary>
    [Id(21)] public double CostSaved { get; init; }

    /// <summary>Builds the summary of <paramref name="aggregate"/>, which covers [start, end); of one instance when named.</summary>
    public static ModelSummary Create(string model, string window, DateTimeOffset start, DateTimeOffset end, MetricsAggregate aggregate, string? instance = null)
    {
        var seconds = Math.Max((end - start).TotalSeconds, 1e-9);
        var count = aggregate.Count;
        var latency = aggregate.Latency;
        var ttft = aggregate.TimeToFirstToken;
        return new ModelSummary(
            model, window, start, end, count, aggregate.Successes,
            count == 0 ? 0 : (double)(count - aggregate.Successes) / count,
            new SortedDictionary<string, long>(aggregate.ErrorsByKind.ToDictionary(), StringComparer.Ordinal),
            new LatencySummary(latency.Mean, latency.Quantile(0.5), latency.Quantile(0.9), latency.Quantile(0.95),
                latency.Quantile(0.99), latency.Max, latency.Count),
            new TtftSummary(ttft.Quantile(0.5), ttft.Quantile(0.95), ttft.Quantile(0.99), ttft.Count),
            aggregate.InputTokens, aggregate.OutputTokens,
            new ThroughputSummary(count / seconds, aggregate.OutputTokens / seconds, seconds),
            new CostSummary(aggregate.CostTotal, count == 0 ? null : aggregate.CostTotal / count),
            new QualitySummary(aggregate.QualityCount == 0 ? null : aggregate.QualitySum / aggregate.QualityCount, aggregate.QualityCount),
            aggregate.FirstTimestamp, aggregate.LastTimestamp, instance)
        {
            ToolCalls = aggregate.ToolCalls,
            CacheHits = aggregate.CacheHits,
            CacheHitRate = count == 0 ? 0 : (double)aggregate.CacheHits / count,
            CostSaved = aggregate.CostSaved,
        };
    }
}

/// <summary>Execution time in seconds.</summary>
[GenerateSerializer, Immutable, Alias("kyros.LatencySummary")]
public sealed record LatencySummary(
    [property: Id(0)] double? Mean,
    [property: Id(1)] double? P50,
    [property: Id(2)] double? P90,
    [property: Id(3)] double? P95,
    [property: Id(4)] double? P99,
    [property: Id(5)] double? Max,
    [property: Id(6)] long SampleCount);

/// <summary>Time to first token in seconds, over the records that carry one.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TtftSummary")]
public sealed record TtftSummary(
    [property: Id(0)] double? P50,
    [property: Id(1)] double? P95,
    [property: Id(2)] double? P99,
    [property: Id(3)] long SampleCount);

/// <summary>Rates over the seconds the window has covered so far.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ThroughputSummary")]
public sealed record ThroughputSummary(
    [property: Id(0)] double RequestsPerSecond,
    [property: Id(1)] double OutputTokensPerSecond,
    [property: Id(2)] double CoveredSeconds);

[GenerateSerializer, Immutable, Alias("kyros.CostSummary")]
public sealed record CostSummary([property: Id(0)] double Total, [property: Id(1)] double? PerRequest);

[GenerateSerializer, Immutable, Alias("kyros.QualitySummary")]
public sealed record QualitySummary([property: Id(0)] double? Mean, [property: Id(1)] long Count);

/// <summary>Every catalog model's summary over one window, and the exact merge of them all.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ClusterSummary")]
public sealed record ClusterSummary(
    [property: Id(0)] string Window,
    [property: Id(1)] IReadOnlyList<ModelSummary> Models,
    [property: Id(2)] ModelSummary Cluster)
{
    /// <summary>Each run-time key's spend, requests and tokens in its budget period (not the window), in all and per model.</summary>
    [Id(3)] public IReadOnlyList<Keys.KeySpend> Keys { get; init; } = [];
}

/// <summary>Where a model's grain lives and how much it holds; for operators and tests.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelStatsInfo")]
public sealed record ModelStatsInfo(
    [property: Id(0)] string Model,
    [property: Id(1)] string Silo,
    [property: Id(2)] int ProcessId,
    [property: Id(3)] long AppliedPosition,
    [property: Id(4)] int MinuteBuckets,
    [property: Id(5)] long RecordsInMemory,
    [property: Id(6)] DateTimeOffset? LastCheckpoint,
    [property: Id(7)] int ReplayedOnActivation,
    [property: Id(8)] int HourBuckets);
