using System.Runtime.CompilerServices;

namespace Kyros.Perf.Benchmarking;

/// <summary>
/// A run against earlier runs of its configuration, cell by cell (model, mode, level): the relative change of each
/// metric with a 95 % percentile-bootstrap interval, so that a report flags a regression only when the samples show it
/// and not when the run was merely unlucky.
/// </summary>
public static class BenchmarkComparison
{
    /// <summary>The smallest worsening (relative, or absolute for an error rate from 0) that counts as a regression.</summary>
    public const double RegressionThreshold = 0.1;
    public const int BootstrapResamples = 1000;
    public const double IntervalLow = 0.025;
    public const double IntervalHigh = 0.975;

    public const string LatencyP50 = "latency_p50";
    public const string LatencyP95 = "latency_p95";
    public const string TtftP50 = "ttft_p50";
    public const string TokensPerSecond = "tokens_per_second";
    public const string ErrorRate = "error_rate";

    public static readonly IReadOnlyList<string> Metrics = [LatencyP50, LatencyP95, TtftP50, TokensPerSecond, ErrorRate];

    /// <summary>Whether a fall of the metric is an improvement: all but tokens per second.</summary>
    public static bool LowerIsBetter(string metric) => metric != TokensPerSecond;

    /// <summary>
    /// The metric over a cell's samples: latency and TTFT percentiles and the mean decode rate over successful requests (as
    /// in <see cref="BenchmarkStatistics.Summarize"/>), the error rate over all. Null when it cannot be measured (no such
    /// requests, or a metric this build does not know).
    /// </summary>
    public static double? Measure(string metric, IReadOnlyList<BenchmarkSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        if (Definition(metric) is not { } definition) return null;
        var values = Values(definition.Source, samples);
        return values.Length == 0 ? null : Point(definition.Statistic, values);
    }

    /// <summary>
    /// Each cell present in both current and baseline samples, each metric (or only <paramref name="metric"/>; an unknown
    /// one gives nothing), optionally one model: the change with its bootstrap interval, ordered by model, mode, level and
    /// metric. A metric that cannot be measured on either side is skipped, and so is one whose baseline is 0, but for the
    /// error rate, which from 0 is compared by the absolute difference. <see cref="BenchmarkTrend.BaselineSamples"/> and
    /// <see cref="BenchmarkTrend.CurrentSamples"/> count the requests the metric was measured on. The same inputs and seed
    /// give the same intervals, whichever model or metric is asked for.
    /// </summary>
    public static BenchmarkTrend[] Compare(IReadOnlyList<BenchmarkSample> current, IReadOnlyList<BenchmarkSample> baseline, int seed,
        string? model = null, string? metric = null)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(baseline);
        var metrics = metric is null ? Metrics : Metrics.Where(m => m == metric).ToList();
        var baselineCells = Cells(baseline);
        var trends = new List<BenchmarkTrend>();
        foreach (var (key, cur) in Cells(current))
        {
            if (model is not null && key.Model != model) continue;
            if (!baselineCells.TryGetValue(key, out var bas)) continue;
            var (currentSide, baselineSide) = (new Side(cur, seed, 0), new Side(bas, seed, 1));
            foreach (var m in metrics)
                if (Trend(key, m, currentSide, baselineSide) is { } trend) trends.Add(trend);
        }
        return [.. trends];
    }

    /// <summary>A run's trend points: every metric that can be measured, per cell, ordered as <see cref="Compare"/> orders.</summary>
    public static BenchmarkTrendPoint[] Points(string runId, DateTimeOffset at, IReadOnlyList<BenchmarkSample> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        return
        [
            .. from cell in Cells(samples)
            from m in Metrics
            let value = Measure(m, cell.Value)
            where value is not null
            select new BenchmarkTrendPoint(runId, at, cell.Key.Model, cell.Key.Mode, cell.Key.Concurrency, m, value.Value),
        ];
    }

    private readonly record struct CellKey(string Model, string Mode, int Concurrency);

    /// <summary>What a metric is computed from: a cell's successful latencies, first-token times, decode rates, or failures (1) and successes (0).</summary>
    private enum Source { Latency, Ttft, DecodeRate, Failure }

    private enum Statistic { P50, P95, Mean }

    private static (Source Source, Statistic Statistic)? Definition(string metric) => metric switch
    {
        LatencyP50 => (Source.Latency, Statistic.P50),
        LatencyP95 => (Source.Latency, Statistic.P95),
        TtftP50 => (Source.Ttft, Statistic.P50),
        TokensPerSecond => (Source.DecodeRate, Statistic.Mean),
        ErrorRate => (Source.Failure, Statistic.Mean),
        _ => null,
    };

    private static SortedDictionary<CellKey, List<BenchmarkSample>> Cells(IReadOnlyList<BenchmarkSample> samples)
    {
        var cells = new SortedDictionary<CellKey, List<BenchmarkSample>>(Comparer<CellKey>.Create((a, b) =>
            string.CompareOrdinal(a.Model, b.Model) is var byModel and not 0 ? byModel
            : string.CompareOrdinal(a.Mode, b.Mode) is var byMode and not 0 ? byMode
            : a.Concurrency.CompareTo(b.Concurrency)));
        foreach (var s in samples)
        {
            var key = new CellKey(s.Model, s.Mode, s.Concurrency);
            if (!cells.TryGetValue(key, out var list)) cells[key] = list = [];
            list.Add(s);
        }
        return cells;
    }

    /// <summary>The source's values in ascending order (non-finite ones left out).</summary>
    private static double[] Values(Source source, IReadOnlyList<BenchmarkSample> samples)
    {
        IEnumerable<double> values = source switch
        {
            Source.Latency => samples.Where(s => s.Success).Select(s => s.Latency),
            Source.Ttft => samples.Where(s => s.Success && s.Ttft is not null).Select(s => s.Ttft!.Value),
            Source.DecodeRate => samples.Select(BenchmarkStatistics.DecodeRate).OfType<double>(),
            _ => samples.Select(s => s.Success ? 0.0 : 1.0),
        };
        var array = values.Where(double.IsFinite).ToArray();
        Array.Sort(array);
        return array;
    }

    private static double Point(Statistic statistic, double[] sorted) => statistic switch
    {
        Statistic.P50 => BenchmarkStatistics.Percentile(sorted, 0.50),
        Statistic.P95 => BenchmarkStatistics.Percentile(sorted, 0.95),
        _ => sorted.Average(),
    };

    /// <summary>
    /// One side of a cell: its values and bootstrap per source, each computed once however many metrics use it (latency's
    /// p50 and p95 share their resamples). Each source and side draws from its own seeded stream, so an interval does not
    /// depend on which other metrics or models were asked for.
    /// </summary>
    private sealed class Side(List<BenchmarkSample> samples, int seed, int side)
    {
        private readonly Dictionary<Source, double[]> _values = [];
        private readonly Dictionary<Source, Dictionary<Statistic, double[]>> _resampled = [];

        public double[] Values(Source source) =>
            _values.TryGetValue(source, out var values) ? values : _values[source] = BenchmarkComparison.Values(source, samples);

        public double[] Resampled(Source source, Statistic statistic)
        {
            if (!_resampled.TryGetValue(source, out var byStatistic))
            {
                var start = (ulong)new Random(unchecked(seed * 31 + (int)source * 2 + side)).NextInt64();
                _resampled[source] = byStatistic = Bootstrap(Values(source), mean: source is Source.DecodeRate or Source.Failure, start);
            }
            return byStatistic[statistic];
        }
    }

    private static BenchmarkTrend? Trend(CellKey key, string metric, Side current, Side baseline)
    {
        if (Definition(metric) is not { } definition) return null;
        var (source, statistic) = definition;
        var (cur, bas) = (current.Values(source), baseline.Values(source));
        if (cur.Length == 0 || bas.Length == 0) return null;
        var curValue = Point(statistic, cur);
        var basValue = Point(statistic, bas);
        // An error rate that was 0 has no relative change: any error is "infinitely" worse. Compare it by the absolute
        // difference instead (Change is then in the rate's own units). Any other metric at 0 has nothing to compare with.
        var absolute = basValue == 0 && metric == ErrorRate;
        if (basValue == 0 && !absolute) return null;

        var curBoot = current.Resampled(source, statistic);
        var basBoot = baseline.Resampled(source, statistic);
        var changes = new double[BootstrapResamples];
        for (var b = 0; b < changes.Length; b++) changes[b] = absolute ? curBoot[b] - basBoot[b] : Relative(curBoot[b], basBoot[b]);
        Array.Sort(changes);
        var change = absolute ? curValue - basValue : Relative(curValue, basValue);
        var low = BenchmarkStatistics.Percentile(changes, IntervalLow);
        var high = BenchmarkStatistics.Percentile(changes, IntervalHigh);
        var lowerIsBetter = LowerIsBetter(metric);
        return new BenchmarkTrend
        {
            Model = key.Model,
            Mode = key.Mode,
            Concurrency = key.Concurrency,
            Metric = metric,
            Baseline = basValue,
            Current = curValue,
            Change = change,
            // A resampled baseline of 0 (a rare error drawn in none of a resample) leaves a bound unbounded: kept finite for JSON.
            ChangeLow = Finite(low),
            ChangeHigh = Finite(high),
            Significant = low > 0 || high < 0,
            // The whole interval on the worse side, and the change itself at least the threshold.
            Regression = (lowerIsBetter ? low > 0 : high < 0) && (lowerIsBetter ? change : -change) >= RegressionThreshold,
            BaselineSamples = bas.Length,
            CurrentSamples = cur.Length,
        };
    }

    private static double Relative(double current, double baseline) =>
        baseline != 0 ? (current - baseline) / baseline
        : current == 0 ? 0
        : current > 0 ? double.PositiveInfinity : double.NegativeInfinity;

    private static double Finite(double value) => Math.Clamp(value, double.MinValue, double.MaxValue);

    /// <summary>
    /// The mean, or the p50 and p95, of <see cref="BootstrapResamples"/> resamples with replacement of ascending values.
    /// A resample is never built or sorted: the draws only count how often each value was drawn, and walks over those
    /// counts find the ranks a percentile needs (the p50 from below, the p95 from above, the shorter ways) or sum for the
    /// mean (which needs no counts): O(n) per resample in one reused buffer. The draws come from SplitMix64 started from the seeded
    /// <see cref="Random"/>, two per 64-bit output: as reproducible, and several times cheaper than
    /// <see cref="Random.Next(int)"/>, which matters at millions of draws per cell.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Dictionary<Statistic, double[]> Bootstrap(double[] sorted, bool mean, ulong state)
    {
        var n = sorted.Length;
        var counts = mean ? [] : new int[n];
        var means = new double[BootstrapResamples];
        var p50s = new double[BootstrapResamples];
        var p95s = new double[BootstrapResamples];
        var (h50, h95) = ((n - 1) * 0.50, (n - 1) * 0.95);
        var (lo50, lo95) = ((int)h50, (int)h95);
        var (hi50, hi95) = (Math.Min(lo50 + 1, n - 1), Math.Min(lo95 + 1, n - 1));
        var size = (ulong)n;
        for (var b = 0; b < BootstrapResamples; b++)
        {
            if (mean)
            {
                var sum = 0.0;
                for (var i = 0; i < n; i += 2)
                {
                    // SplitMix64, as below.
                    state += 0x9E3779B97F4A7C15UL;
                    var z = state;
                    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                    z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                    z ^= z >> 31;
                    sum += sorted[(int)(((z >> 32) * size) >> 32)];
                    if (i + 1 < n) sum += sorted[(int)(((z & 0xFFFFFFFFUL) * size) >> 32)];
                }
                means[b] = sum / n;
                continue;
            }
            Array.Clear(counts);
            for (var i = 0; i < n; i += 2)
            {
                // SplitMix64, written out (a call per draw costs in an unoptimized build); each 32-bit half goes onto 0..n-1
                // by Lemire's multiply-shift (its bias, under n / 2^32, is nothing here).
                state += 0x9E3779B97F4A7C15UL;
                var z = state;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                counts[(int)(((z >> 32) * size) >> 32)]++;
                if (i + 1 < n) counts[(int)(((z & 0xFFFFFFFFUL) * size) >> 32)]++;
            }
            // Ranks seen-counts[j] .. seen-1 of the resample hold sorted[j].
            double below50 = 0, above50 = 0;
            for (int j = 0, seen = 0; j < n; j++)
            {
                seen += counts[j];
                if (lo50 < seen && seen - counts[j] <= lo50) below50 = sorted[j];
                if (hi50 < seen) { above50 = sorted[j]; break; }
            }
            // From the top: the values above rank r number n - 1 - r.
            double below95 = 0, above95 = 0;
            for (int j = n - 1, above = 0; j >= 0; j--)
            {
                above += counts[j];
                if (n - 1 - hi95 < above && above - counts[j] <= n - 1 - hi95) above95 = sorted[j];
                if (n - 1 - lo95 < above) { below95 = sorted[j]; break; }
            }
            p50s[b] = BenchmarkStatistics.Interpolate(below50, above50, h50 - lo50);
            p95s[b] = BenchmarkStatistics.Interpolate(below95, above95, h95 - lo95);
        }
        return new() { [Statistic.Mean] = means, [Statistic.P50] = p50s, [Statistic.P95] = p95s };
    }
}
