namespace Kyros.Perf.Resources;

/// <summary>
/// Everything one host's grain computes, without the grain: the sample window, the alerts, the patterns and the notices.
/// Feed it samples in time order; it answers the events each one caused, and summaries.
/// </summary>
public sealed class NodeMonitor(string node, ResourceOptions options)
{
    private readonly SampleWindow _window = new(options.Window);
    private readonly AlertEvaluator _alerts = new(node, options);
    private readonly Dictionary<(string Series, PatternKind Kind), PatternDetection> _patterns = [];
    private readonly HashSet<string> _spiking = new(StringComparer.Ordinal);
    private readonly HashSet<string> _gpus = new(StringComparer.Ordinal);
    private DateTimeOffset _nextPatternScan = DateTimeOffset.MinValue;

    public DateTimeOffset? LastSampleAt => _window.LastSampleAt;
    public IReadOnlyList<ActiveAlert> ActiveAlerts => _alerts.Active.OrderBy(a => a.Series, StringComparer.Ordinal).ToArray();
    public IReadOnlyCollection<string> KnownGpus => _gpus;

    /// <summary>Takes back what a previous activation knew: active alerts and the GPUs already announced.</summary>
    public void Restore(IEnumerable<ActiveAlert> active, IEnumerable<string> gpus)
    {
        _alerts.Restore(active);
        _gpus.UnionWith(gpus);
    }

    /// <summary>
    /// Refuses a push that would pass the host's caps, before any of it is taken: samples closer together than
    /// <see cref="ResourceOptions.MinSampleInterval"/>, or more series than <see cref="ResourceOptions.MaxSeriesPerHost"/>.
    /// </summary>
    public void RequireWithinCaps(IReadOnlyList<ResourceSample> samples)
    {
        var previous = LastSampleAt;
        var added = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < samples.Count; i++)
        {
            var prefix = samples.Count == 1 ? "" : $"[{i}].";
            if (samples[i].Timestamp - previous < options.MinSampleInterval)
                throw new ArgumentException($"{prefix}timestamp {samples[i].Timestamp:O} is {(samples[i].Timestamp - previous)!.Value.TotalMilliseconds:0} ms after the previous sample; "
                    + $"a host's samples are at least {options.MinSampleInterval.TotalMilliseconds:0} ms apart ({ResourceOptions.Section}:MinSampleInterval).", prefix + "timestamp");
            previous = samples[i].Timestamp;
            foreach (var (series, _, _) in ResourceMetrics.Flatten(samples[i]))
                if (!_window.HasSeries(series) && added.Add(series) && _window.SeriesCount + added.Count > options.MaxSeriesPerHost)
                    throw new ArgumentException($"The push would give host '{node}' more than {options.MaxSeriesPerHost} series, its limit ({ResourceOptions.Section}:MaxSeriesPerHost).", "samples");
        }
    }

    /// <summary>Takes a sample (newer than the last) and returns the alert events and notices it caused.</summary>
    public List<AlertEvent> Ingest(ResourceSample sample, Func<string, AlertThresholds?> thresholdsOf)
    {
        // The series names are built once a sample: the window, the alerts and the spike check all read them.
        var values = ResourceMetrics.Flatten(sample).ToArray();
        if (!_window.Add(sample.Timestamp, values)) throw new ArgumentException($"timestamp {sample.Timestamp:O} is not after the last sample ({_window.LastSampleAt:O}).", "timestamp");
        var events = _alerts.Evaluate(sample.Timestamp, values, thresholdsOf);
        foreach (var gpu in sample.Gpus)
            if (_gpus.Add($"{gpu.Index}:{gpu.Name}"))
                events.Add(Notice("gpu", $"gpu:{gpu.Index}", ResourceMetrics.GpuUtilization, sample.Timestamp, gpu.UtilizationPercent ?? 0,
                    $"New GPU {gpu.Index} on {node}: {gpu.Name}, {gpu.MemoryTotalBytes / (1024.0 * 1024 * 1024):0.#} GiB."));

        var from = sample.Timestamp - options.Window;
        foreach (var (series, metric, _) in values)
        {
            // A spike is announced when it starts, not on every sample it lasts.
            var spike = PatternDetector.Spike(series, _window.Spread(series, from, PatternDetector.MaxBaseline + 1), options.SpikeZScore);
            if (spike is null)
            {
                _spiking.Remove(series);
                continue;
            }
            _patterns[(series, PatternKind.Spike)] = spike;
            if (_spiking.Add(series)) events.Add(Notice("spike", series, metric, sample.Timestamp, spike.Value ?? 0, spike.Description));
        }
        if (sample.Timestamp >= _nextPatternScan)
        {
            _nextPatternScan = sample.Timestamp + options.PatternInterval;
            events.AddRange(ScanTrendsAndCycles(sample.Timestamp, thresholdsOf));
        }
        return events;
    }

    public NodeSeries Series(TimeSpan window, int maxPoints, DateTimeOffset now)
    {
        var from = now - window;
        var series = new List<MetricSeries>();
        foreach (var name in _window.SeriesNames.Order(StringComparer.Ordinal))
        {
            var points = _window.Spread(name, from, maxPoints);
            if (points.Count == 0) continue;
            var metric = ResourceMetrics.MetricOf(name);
            series.Add(new MetricSeries(name, metric, ResourceMetrics.Unit(metric), points.Select(p => p.At).ToArray(), points.Select(p => p.Value).ToArray()));
        }
        return new NodeSeries(node, window, series);
    }

    public NodeSummary Summarize(TimeSpan window, string group, string silo, bool selfSampled, DateTimeOffset now)
    {
        var from = now - window;
        return new NodeSummary
        {
            Node = node,
            Group = group,
            Window = window,
            SampleCount = _window.SamplesSince(from),
            LastSampleAt = LastSampleAt,
            Metrics = _window.Summarize(from),
            Patterns = _patterns.Values.Where(p => p.DetectedAt >= from).OrderBy(p => p.Series, StringComparer.Ordinal).ThenBy(p => p.Kind).ToArray(),
            ActiveAlerts = ActiveAlerts,
            Silo = silo,
            SelfSampled = selfSampled,
        };
    }

    /// <summary>Mean CPU and GPU use over the recent and the sustained windows, and how well samples cover each.</summary>
    public NodeUsage Usage(string group, TimeSpan recent, TimeSpan sustained, DateTimeOffset now)
    {
        double Coverage(TimeSpan window)
        {
            var times = _window.Points(ResourceMetrics.Cpu, now - window);
            if (times.Count < 2) return 0;
            var spacing = (times[^1].At - times[0].At) / (times.Count - 1);
            return Math.Min(1, (times[^1].At - times[0].At + spacing) / window);
        }
        return new NodeUsage(node, group,
            _window.MeanOf(ResourceMetrics.Cpu, now - recent), _window.MeanOf(ResourceMetrics.GpuUtilization, now - recent), Coverage(recent),
            _window.MeanOf(ResourceMetrics.Cpu, now - sustained), _window.MeanOf(ResourceMetrics.GpuUtilization, now - sustained), Coverage(sustained));
    }

    private IEnumerable<AlertEvent> ScanTrendsAndCycles(DateTimeOffset now, Func<string, AlertThresholds?> thresholdsOf)
    {
        var from = now - options.Window;
        foreach (var series in _window.SeriesNames)
        {
            var points = _window.Points(series, from);
            if (points.Count < options.PatternMinSamples) continue;
            var metric = ResourceMetrics.MetricOf(series);
            var levels = thresholdsOf(metric) is { } t ? new[] { t.Warning, t.Critical, t.Emergency } : [];
            (PatternKind Kind, PatternDetection? Detection)[] found =
            [
                (PatternKind.GradualIncrease, PatternDetector.GradualIncrease(series, points, options.TrendTStatistic, options.TrendMinRSquared, levels)),
                (PatternKind.Cycle, PatternDetector.Cycle(series, points, options.CycleMinAutocorrelation)),
            ];
            foreach (var (kind, detection) in found)
            {
                var known = _patterns.Remove((series, kind));
                if (detection is null) continue;
                _patterns[(series, kind)] = detection;
                if (!known) yield return Notice(kind.ToString(), series, metric, now, detection.Value ?? points[^1].Value, detection.Description);
            }
        }
    }

    private AlertEvent Notice(string tag, string series, string metric, DateTimeOffset at, double value, string message) => new()
    {
        AlertId = $"{node}:{series}:{tag}:{at.UtcTicks}",
        Node = node,
        Series = series,
        Metric = metric,
        Kind = AlertEventKind.Notice,
        Level = AlertLevel.Info,
        Value = value,
        Timestamp = at,
        Message = message,
    };
}
