namespace Kyros.Perf.Resources;

/// <summary>The samples of one host kept for a window, series by series, oldest first.</summary>
public sealed class SampleWindow(TimeSpan retention)
{
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);

    public DateTimeOffset? LastSampleAt { get; private set; }
    private readonly Queue<DateTimeOffset> _sampleTimes = new();

    public IEnumerable<string> SeriesNames => _series.Keys;

    public int SeriesCount => _series.Count;

    public bool HasSeries(string name) => _series.ContainsKey(name);

    /// <summary>Adds a sample's values (<see cref="ResourceMetrics.Flatten"/>); a sample older than the newest one is refused (false), so series stay in order.</summary>
    public bool Add(DateTimeOffset at, IReadOnlyList<(string Series, string Metric, double Value)> values)
    {
        if (at <= LastSampleAt) return false;
        LastSampleAt = at;
        _sampleTimes.Enqueue(at);
        foreach (var (name, metric, value) in values)
        {
            if (!_series.TryGetValue(name, out var series)) _series[name] = series = new Series(metric);
            series.Points.Enqueue((at, value));
        }
        Prune(at);
        return true;
    }

    /// <summary>The values of a series at or after <paramref name="from"/>, oldest first.</summary>
    public IReadOnlyList<(DateTimeOffset At, double Value)> Points(string series, DateTimeOffset from) =>
        _series.TryGetValue(series, out var s) ? s.Points.Where(p => p.At >= from).ToArray() : [];

    /// <summary>
    /// At most <paramref name="max"/> points of a series at or after <paramref name="from"/>, spread evenly and always
    /// ending with the newest: enough for robust statistics without copying an hour of samples on every sample.
    /// </summary>
    public IReadOnlyList<(DateTimeOffset At, double Value)> Spread(string series, DateTimeOffset from, int max)
    {
        if (!_series.TryGetValue(series, out var s)) return [];
        var count = 0;
        foreach (var p in s.Points) if (p.At >= from) count++;
        var stride = Math.Max(1, (count + max - 1) / max);
        var result = new List<(DateTimeOffset, double)>(Math.Min(count, max));
        var index = 0;
        var skip = (count - 1) % stride; // so that the newest point is taken
        foreach (var p in s.Points)
        {
            if (p.At < from) continue;
            if (index++ % stride == skip) result.Add(p);
        }
        return result;
    }

    /// <summary>Samples taken at or after <paramref name="from"/>.</summary>
    public int SamplesSince(DateTimeOffset from) => _sampleTimes.Count(t => t >= from);

    public IReadOnlyList<MetricSummary> Summarize(DateTimeOffset from)
    {
        var result = new List<MetricSummary>();
        foreach (var (name, series) in _series.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var values = series.Points.Where(p => p.At >= from).ToArray();
            if (values.Length == 0) continue;
            var sorted = values.Select(p => p.Value).Order().ToArray();
            result.Add(new MetricSummary(name, series.Metric, ResourceMetrics.Unit(series.Metric), sorted.Length,
                sorted[0], sorted.Average(), sorted[^1], Percentile(sorted, 0.95), values[^1].Value, values[^1].At));
        }
        return result;
    }

    /// <summary>The mean of a metric's series (all GPUs, say) over samples at or after <paramref name="from"/>; null without any.</summary>
    public double? MeanOf(string metric, DateTimeOffset from)
    {
        var values = _series.Values.Where(s => s.Metric == metric).SelectMany(s => s.Points).Where(p => p.At >= from).Select(p => p.Value).ToArray();
        return values.Length == 0 ? null : values.Average();
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    private void Prune(DateTimeOffset now)
    {
        var cutoff = now - retention;
        while (_sampleTimes.TryPeek(out var t) && t < cutoff) _sampleTimes.Dequeue();
        foreach (var (name, series) in _series)
        {
            while (series.Points.TryPeek(out var p) && p.At < cutoff) series.Points.Dequeue();
            if (series.Points.Count == 0) _series.Remove(name);
        }
    }

    private sealed class Series(string metric)
    {
        public string Metric { get; } = metric;
        public Queue<(DateTimeOffset At, double Value)> Points { get; } = new();
    }
}
