namespace Kyros.Perf.Resources;

/// <summary>
/// Finds spikes (robust z-score on the median and MAD), gradual increases (least-squares slope, its t statistic, and a
/// forecast of the next threshold crossing) and cycles (autocorrelation of the detrended series, with its period).
/// Series are (time, value) points, oldest first.
/// </summary>
public static class PatternDetector
{
    /// <summary>A flat series still needs this much spread (in the metric's units) before a move counts as a spike.</summary>
    public const double MinimumSpread = 0.5;
    private const double MadToSigma = 1.4826;
    private const int MaxLag = 720;
    /// <summary>The median and MAD are taken over at most this many points spread evenly across the window.</summary>
    public const int MaxBaseline = 512;
    private const double MaxReportedT = 1e6;

    /// <summary>Whether the newest point is a spike against the points before it (at least 10 of them).</summary>
    public static PatternDetection? Spike(string series, IReadOnlyList<(DateTimeOffset At, double Value)> points, double zBound)
    {
        if (points.Count < 11) return null;
        var stride = (points.Count - 1 + MaxBaseline - 1) / MaxBaseline;
        var history = new double[(points.Count - 1 + stride - 1) / stride];
        for (var i = 0; i < history.Length; i++) history[i] = points[points.Count - 2 - i * stride].Value;
        var median = Stats.Median.Of(history);
        for (var i = 0; i < history.Length; i++) history[i] = Math.Abs(history[i] - median);
        var spread = Math.Max(MadToSigma * Stats.Median.Of(history), MinimumSpread);
        var (at, value) = points[^1];
        var z = (value - median) / spread;
        if (Math.Abs(z) < zBound) return null;
        return new PatternDetection
        {
            Series = series,
            Kind = PatternKind.Spike,
            Confidence = Math.Min(1, 0.5 + (Math.Abs(z) - zBound) / (2 * zBound)),
            Description = $"{series} {(z > 0 ? "spiked" : "dropped")} to {value:0.##} against a median of {median:0.##} (robust z {z:0.#}).",
            DetectedAt = at,
            ZScore = Math.Round(z, 3),
            Value = value,
        };
    }

    /// <summary>
    /// A significant rise: slope above zero with t at least <paramref name="tBound"/> and R² at least <paramref name="minRSquared"/>.
    /// <paramref name="thresholds"/> (ascending) give the forecast: when the trend meets the first one above the fitted value now.
    /// </summary>
    public static PatternDetection? GradualIncrease(string series, IReadOnlyList<(DateTimeOffset At, double Value)> points,
        double tBound, double minRSquared, IReadOnlyList<double> thresholds)
    {
        if (points.Count < 10) return null;
        var fit = Fit(points);
        if (fit.Slope <= 0 || fit.T < tBound || fit.RSquared < minRSquared) return null;
        var now = points[^1].At;
        var fittedNow = fit.Intercept + fit.Slope * fit.LastX;
        double? next = thresholds.Where(t => t > fittedNow).Order().Cast<double?>().FirstOrDefault();
        DateTimeOffset? crossing = next is { } n ? now + TimeSpan.FromMinutes((n - fittedNow) / fit.Slope) : null;
        return new PatternDetection
        {
            Series = series,
            Kind = PatternKind.GradualIncrease,
            Confidence = Math.Round(fit.RSquared, 4),
            Description = $"{series} is rising {fit.Slope:0.###} per minute (t {Math.Min(fit.T, MaxReportedT):0.#}, R² {fit.RSquared:0.00})"
                + (crossing is { } c ? $"; at this rate it reaches {next:0.##} at {c:u}." : "."),
            DetectedAt = now,
            Value = fittedNow,
            SlopePerMinute = fit.Slope,
            TStatistic = Math.Min(fit.T, MaxReportedT),
            ForecastThreshold = crossing is null ? null : next,
            ForecastCrossingAt = crossing,
        };
    }

    /// <summary>
    /// A cycle: after detrending, the highest autocorrelation past the first zero crossing, at lags up to half the series,
    /// reaching <paramref name="minAutocorrelation"/>. The period is that lag times the median spacing of the points.
    /// </summary>
    public static PatternDetection? Cycle(string series, IReadOnlyList<(DateTimeOffset At, double Value)> points, double minAutocorrelation)
    {
        var n = points.Count;
        if (n < 10) return null;
        var fit = Fit(points);
        var residuals = new double[n];
        var first = points[0].At;
        for (var i = 0; i < n; i++) residuals[i] = points[i].Value - (fit.Intercept + fit.Slope * (points[i].At - first).TotalMinutes);
        var variance = residuals.Sum(r => r * r);
        if (variance <= 1e-12) return null;

        var maxLag = Math.Min(n / 2, MaxLag);
        var crossed = false;
        var (bestLag, best) = (0, double.MinValue);
        for (var lag = 1; lag <= maxLag; lag++)
        {
            var sum = 0.0;
            for (var i = 0; i + lag < n; i++) sum += residuals[i] * residuals[i + lag];
            var r = sum / variance;
            if (!crossed)
            {
                crossed = r < 0;
                continue;
            }
            if (r > best) (bestLag, best) = (lag, r);
        }
        if (bestLag == 0 || best < minAutocorrelation) return null;
        var period = MedianSpacing(points) * bestLag;
        return new PatternDetection
        {
            Series = series,
            Kind = PatternKind.Cycle,
            Confidence = Math.Round(Math.Min(1, best), 4),
            Description = $"{series} repeats every {Format(period)} (autocorrelation {best:0.00}).",
            DetectedAt = points[^1].At,
            Period = period,
        };
    }

    /// <summary>Least squares against minutes since the first point.</summary>
    private static (double Slope, double Intercept, double T, double RSquared, double LastX) Fit(IReadOnlyList<(DateTimeOffset At, double Value)> points)
    {
        var n = points.Count;
        var first = points[0].At;
        double meanX = 0, meanY = 0;
        for (var i = 0; i < n; i++)
        {
            meanX += (points[i].At - first).TotalMinutes;
            meanY += points[i].Value;
        }
        meanX /= n;
        meanY /= n;
        double sxx = 0, sxy = 0, syy = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = (points[i].At - first).TotalMinutes - meanX;
            var dy = points[i].Value - meanY;
            sxx += dx * dx;
            sxy += dx * dy;
            syy += dy * dy;
        }
        if (sxx <= 0) return (0, meanY, 0, 0, 0);
        var slope = sxy / sxx;
        var residual = Math.Max(syy - slope * sxy, 0);
        var standardError = Math.Sqrt(residual / Math.Max(n - 2, 1) / sxx);
        var t = standardError > 0 ? slope / standardError : slope > 0 ? double.PositiveInfinity : 0;
        var rSquared = syy > 0 ? 1 - residual / syy : 0;
        return (slope, meanY - slope * meanX, t, rSquared, (points[^1].At - first).TotalMinutes);
    }

    private static TimeSpan MedianSpacing(IReadOnlyList<(DateTimeOffset At, double Value)> points)
    {
        var gaps = new double[points.Count - 1];
        for (var i = 1; i < points.Count; i++) gaps[i - 1] = (points[i].At - points[i - 1].At).TotalSeconds;
        return TimeSpan.FromSeconds(Stats.Median.Of(gaps));
    }

    private static string Format(TimeSpan span) =>
        span.TotalMinutes >= 1 ? $"{span.TotalMinutes:0.#} min" : $"{span.TotalSeconds:0.#} s";
}
