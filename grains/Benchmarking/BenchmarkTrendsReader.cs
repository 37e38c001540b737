using Kyros.Perf.Common;
using Kyros.Perf.History;

namespace Kyros.Perf.Benchmarking;

/// <summary>Reads runs and samples from the history and compares the chosen run with the earlier runs of its configuration.</summary>
public sealed class BenchmarkTrendsReader(ClusterHistory history)
{
    /// <summary>Earlier runs pooled as the baseline.</summary>
    public const int BaselineRuns = 5;
    /// <summary>Runs drawn on the trend line.</summary>
    public const int TrendRuns = 20;

    public async Task<BenchmarkTrendReport> ReadAsync(BenchmarkTrendQuery query)
    {
        if (query.Config is null && query.Run is null) throw new ArgumentException("config or run is required: the configuration to compare.", "config");
        if (query.Metric is not null && !BenchmarkComparison.Metrics.Contains(query.Metric))
            throw new ArgumentException($"metric must be one of {string.Join(", ", BenchmarkComparison.Metrics)}.", "metric");
        var key = query.Config;
        if (query.Run is { } runId)
        {
            var found = (await history.BenchmarkRunsAsync(key, null, 10_000)).FirstOrDefault(r => r.Id == runId)
                        ?? throw new BenchmarkNotFoundException($"No benchmark run has id '{runId}'{(key is null ? "" : $" under config '{key}'")}.");
            key = found.ConfigKey;
        }
        var runs = await history.BenchmarkRunsAsync(key, BenchmarkStatus.Completed, TrendRuns);
        var current = query.Run is { } id ? runs.FirstOrDefault(r => r.Id == id) : runs.FirstOrDefault();
        var report = new BenchmarkTrendReport { ConfigKey = key!, RegressionThreshold = BenchmarkComparison.RegressionThreshold };
        if (current is null) return report;

        var samples = new Dictionary<string, IReadOnlyList<BenchmarkSample>>(StringComparer.Ordinal);
        foreach (var run in runs) samples[run.Id] = Filter(await history.BenchmarkSamplesAsync(run.Id), query.Model);
        var baseline = runs.Where(r => r.CreatedAt < current.CreatedAt).Take(BaselineRuns).ToArray();
        var changes = baseline.Length == 0
            ? []
            : BenchmarkComparison.Compare(samples[current.Id], [.. baseline.SelectMany(r => samples[r.Id])], StableStringHash.Of(current.Id), query.Model, query.Metric);
        var points = runs.AsEnumerable().Reverse()
            .SelectMany(r => BenchmarkComparison.Points(r.Id, r.CreatedAt, samples[r.Id]))
            .Where(p => query.Metric is null || p.Metric == query.Metric)
            .ToArray();
        return report with { Run = current.Id, BaselineRuns = [.. baseline.Select(r => r.Id)], Changes = changes, Points = points };
    }

    private static IReadOnlyList<BenchmarkSample> Filter(IReadOnlyList<BenchmarkSample> samples, string? model) =>
        model is null ? samples : [.. samples.Where(s => s.Model == model)];
}
