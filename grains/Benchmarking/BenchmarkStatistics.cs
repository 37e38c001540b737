using System.Globalization;

namespace Kyros.Perf.Benchmarking;

/// <summary>Where a model's closed-loop throughput stops growing with concurrency, and the figures that showed it.</summary>
public sealed record BenchmarkKnee(int Concurrency, string Reason);

/// <summary>
/// A cell's figures from its raw per-request samples: exact order statistics (no sketch), so that a report's p99 is the
/// p99 of the requests it ran.
/// </summary>
public static class BenchmarkStatistics
{
    /// <summary>A load-test send more than this many seconds behind its schedule counts as late.</summary>
    public const double LateAfterSeconds = 0.01;

    /// <summary>Throughput must rise by at least this share of the proportional rise in concurrency, or the level is the knee.</summary>
    public const double KneeThroughputShare = 0.25;

    /// <summary>A rise of the median latency by more than this share from one level to the next makes the level the knee.</summary>
    public const double KneeLatencyRise = 0.5;

    /// <summary>
    /// The <paramref name="q"/> quantile of ascending values by linear interpolation between the closest ranks: position
    /// h = (n − 1)·q, the value x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]). This is Hyndman and Fan's type 7, the default of
    /// numpy, R and Excel's PERCENTILE.INC, so that a report's figures can be checked with any of them.
    /// </summary>
    /// <param name="sorted">The values in ascending order (not checked).</param>
    /// <param name="q">Within 0..1.</param>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0) throw new ArgumentException("needs at least one value.", nameof(sorted));
        if (!(q is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "must be within 0..1.");
        var h = (sorted.Count - 1) * q;
        var lo = (int)Math.Floor(h);
        if (lo >= sorted.Count - 1) return sorted[^1];
        return Interpolate(sorted[lo], sorted[lo + 1], h - lo);
    }

    /// <summary>Between two neighbouring order statistics; exact when they are equal (so infinities stay infinities, not NaN).</summary>
    internal static double Interpolate(double below, double above, double fraction)
    {
        if (fraction == 0 || below == above) return below;
        if (double.IsInfinity(below) || double.IsInfinity(above)) return (1 - fraction) * below + fraction * above;
        return below + fraction * (above - below);
    }

    /// <summary>Count, mean, p50/p90/p95/p99 (<see cref="Percentile"/>) and max; non-finite values are left out.</summary>
    public static BenchmarkDistribution Distribution(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var sorted = values.Where(double.IsFinite).ToArray();
        if (sorted.Length == 0) return BenchmarkDistribution.Empty;
        Array.Sort(sorted);
        return new BenchmarkDistribution(sorted.Length, sorted.Average(),
            Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.95), Percentile(sorted, 0.99), sorted[^1]);
    }

    /// <summary>
    /// A successful request's decode rate: output tokens over the time after its first token. Null when it has no first
    /// token time or that time is not positive (a one-shot answer has no decode phase to time).
    /// </summary>
    internal static double? DecodeRate(BenchmarkSample s) =>
        s.Success && s.Latency - s.Ttft is > 0 and var decode ? s.OutputTokens / decode : null;

    /// <summary>A successful request's mean time between output tokens after the first; null under two tokens or without a first token time.</summary>
    internal static double? InterTokenLatency(BenchmarkSample s) =>
        s.Success && s.OutputTokens >= 2 && s.Ttft is { } ttft ? Math.Max(0, s.Latency - ttft) / (s.OutputTokens - 1) : null;

    /// <summary>
    /// A cell's result. Latency, time to first token, inter-token latency and decode rate are over successful requests;
    /// rates, errors, cost and goodput over all of them. Goodput is the share of all requests that succeeded within the
    /// SLO (a null bound is not checked; a request without a first token time is held to the TTFT bound by its latency,
    /// which bounds it from above).
    /// </summary>
    public static BenchmarkResult Summarize(string model, string mode, int concurrency, double? targetRps, IReadOnlyList<BenchmarkSample> samples,
        double wallSeconds, BenchmarkSlo slo)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(slo);
        var succeeded = samples.Where(s => s.Success).ToList();
        var requests = samples.Count;
        var quality = samples.Where(s => s.Quality is not null).Select(s => s.Quality!.Value).ToList();
        var decodeRates = succeeded.Select(DecodeRate).OfType<double>().ToList();
        var costTotal = samples.Sum(s => s.Cost);
        var wall = wallSeconds > 0 && double.IsFinite(wallSeconds) ? wallSeconds : 0;
        return new BenchmarkResult
        {
            Model = model,
            Mode = mode,
            Concurrency = concurrency,
            TargetRps = targetRps,
            Requests = requests,
            Successes = succeeded.Count,
            Errors = samples.Where(s => !s.Success).GroupBy(s => s.ErrorKind ?? "error").ToDictionary(g => g.Key, g => g.Count()),
            Latency = Distribution(succeeded.Select(s => s.Latency)),
            Ttft = Distribution(succeeded.Where(s => s.Ttft is not null).Select(s => s.Ttft!.Value)),
            InterTokenLatency = Distribution(succeeded.Select(InterTokenLatency).OfType<double>()),
            OutputTokensPerSecond = decodeRates.Count == 0 ? 0 : decodeRates.Average(),
            TotalOutputTokensPerSecond = wall == 0 ? 0 : samples.Sum(s => (double)s.OutputTokens) / wall,
            RequestsPerSecond = wall == 0 ? 0 : requests / wall,
            CostTotal = costTotal,
            CostPerRequest = requests == 0 ? 0 : costTotal / requests,
            Quality = quality.Count == 0 ? null : quality.Average(),
            QualityScored = quality.Count,
            Goodput = requests == 0 ? 0 : (double)succeeded.Count(s => MeetsSlo(s, slo)) / requests,
            LateSends = samples.Count(s => s.SendDelay > LateAfterSeconds),
            MaxSendDelay = samples.Count == 0 ? 0 : Math.Max(0, samples.Max(s => s.SendDelay)),
            WallSeconds = wall,
        };
    }

    private static bool MeetsSlo(BenchmarkSample s, BenchmarkSlo slo) =>
        (slo.LatencySeconds is not { } latency || s.Latency <= latency)
        && (slo.TtftSeconds is not { } ttft || (s.Ttft ?? s.Latency) <= ttft);

    /// <summary>
    /// The knee of one model's closed-loop results (any order; sorted by concurrency here): the first level L such that,
    /// going to the next level N, requests per second rise by less than a quarter of the proportional rise in concurrency
    /// (rps(N)/rps(L) − 1 &lt; ¼·(N/L − 1): doubling the callers adds under 25 % throughput), or the median latency rises by
    /// more than 50 %. Past the knee, added callers mostly queue. Null with fewer than two levels, or when throughput keeps
    /// growing through the last level.
    /// </summary>
    public static BenchmarkKnee? Knee(IReadOnlyList<BenchmarkResult> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        var sorted = levels.OrderBy(r => r.Concurrency).ToList();
        for (var i = 0; i + 1 < sorted.Count; i++)
        {
            var (at, next) = (sorted[i], sorted[i + 1]);
            if (next.Concurrency <= at.Concurrency || at.Concurrency <= 0) continue;
            var concurrencyRise = (double)next.Concurrency / at.Concurrency - 1;
            // From no throughput at all, any throughput is growth; none at either level is no growth.
            var throughputRise = at.RequestsPerSecond > 0 ? next.RequestsPerSecond / at.RequestsPerSecond - 1
                : next.RequestsPerSecond > 0 ? double.PositiveInfinity : 0;
            if (throughputRise < KneeThroughputShare * concurrencyRise)
                return new BenchmarkKnee(at.Concurrency, string.Create(CultureInfo.InvariantCulture,
                    $"from concurrency {at.Concurrency} to {next.Concurrency} (+{concurrencyRise:0%}) requests per second rose {throughputRise:+0%;-0%;0%}, " +
                    $"from {at.RequestsPerSecond:0.###} to {next.RequestsPerSecond:0.###}"));
            // A level without successes has no median to compare.
            if (at.Latency.Count > 0 && next.Latency.Count > 0 && at.Latency.P50 > 0 && next.Latency.P50 > at.Latency.P50 * (1 + KneeLatencyRise))
                return new BenchmarkKnee(at.Concurrency, string.Create(CultureInfo.InvariantCulture,
                    $"from concurrency {at.Concurrency} to {next.Concurrency} the median latency rose {next.Latency.P50 / at.Latency.P50 - 1:+0%}, " +
                    $"from {at.Latency.P50:0.###} s to {next.Latency.P50:0.###} s"));
        }
        return null;
    }
}
