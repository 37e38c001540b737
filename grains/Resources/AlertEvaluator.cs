using System.Globalization;

namespace Kyros.Perf.Resources;

/// <summary>
/// One host's alerts, series by series. A level is entered after <c>ConsecutiveSamples</c> samples in a row at or above
/// its threshold, and left (de-escalated or resolved) after as many samples in a row below the threshold less the
/// hysteresis margin. One alert per series: it escalates and de-escalates in place and keeps its id until resolved.
/// Hosts use it with their options; models' and keys' rules (<c>Kyros.Perf.Alerts</c>) give their own subject, margin and wording.
/// </summary>
public sealed class AlertEvaluator
{
    private static readonly AlertLevel[] Levels = [AlertLevel.Info, AlertLevel.Warning, AlertLevel.Critical, AlertLevel.Emergency];
    private readonly Dictionary<string, SeriesState> _states = new(StringComparer.Ordinal);
    private readonly string _node;
    private readonly string _subject;
    private readonly int _consecutive;
    private readonly Func<string, double, double> _margin;
    private readonly AlertWording? _wording;

    /// <summary>A host's alerts: margins in points for percentages and °C, a share of the threshold otherwise.</summary>
    public AlertEvaluator(string node, ResourceOptions options)
        : this(node, AlertSubjects.Host, options.ConsecutiveSamples,
            (metric, threshold) => ResourceMetrics.IsPercentage(metric) || metric == ResourceMetrics.GpuTemperature ? options.HysteresisPoints : options.HysteresisFraction * threshold)
    {
    }

    /// <param name="margin">The hysteresis margin of a metric's threshold.</param>
    /// <param name="wording">Each event's message; null words it as a host's.</param>
    public AlertEvaluator(string node, string subject, int consecutiveSamples, Func<string, double, double> margin, AlertWording? wording = null)
    {
        _node = node;
        _subject = subject;
        _consecutive = consecutiveSamples;
        _margin = margin;
        _wording = wording;
    }

    public IEnumerable<ActiveAlert> Active => _states.Values.Where(s => s.Alert is not null).Select(s => s.Alert!);

    /// <summary>Takes back the alerts that were active before the grain was reactivated.</summary>
    public void Restore(IEnumerable<ActiveAlert> active)
    {
        foreach (var alert in active) State(alert.Series).Alert = alert;
    }

    public List<AlertEvent> Evaluate(ResourceSample sample, Func<string, AlertThresholds?> thresholdsOf) =>
        Evaluate(sample.Timestamp, [.. ResourceMetrics.Flatten(sample)], thresholdsOf);

    /// <summary>Evaluates a sample's values (<see cref="ResourceMetrics.Flatten"/>) taken at <paramref name="at"/>.</summary>
    public List<AlertEvent> Evaluate(DateTimeOffset at, IReadOnlyList<(string Series, string Metric, double Value)> values, Func<string, AlertThresholds?> thresholdsOf)
    {
        var events = new List<AlertEvent>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (series, metric, value) in values)
        {
            seen.Add(series);
            if (thresholdsOf(metric) is not { } thresholds) continue;
            var state = State(series);
            state.Push(LevelAt(value, thresholds, metric, hysteresis: false), LevelAt(value, thresholds, metric, hysteresis: true), _consecutive);
            if (!state.Full(_consecutive)) continue;

            var current = state.Alert?.Level ?? AlertLevel.None;
            var sustainedUp = state.Recent.Min(r => r.Up);
            var sustainedDown = state.Recent.Max(r => r.Down);
            var next = sustainedUp > current ? sustainedUp : sustainedDown < current ? sustainedDown : current;
            if (next != current) events.Add(Transition(state, series, metric, current, next, value, thresholds, at));
        }
        ResolveUnreported(seen, at, events);
        return events;
    }

    /// <summary>A series with an alert that is missing from as many samples in a row (a disk unmounted, a GPU gone) resolves.</summary>
    private void ResolveUnreported(HashSet<string> seen, DateTimeOffset at, List<AlertEvent> events)
    {
        foreach (var (series, state) in _states)
        {
            if (seen.Contains(series))
            {
                state.Missed = 0;
                continue;
            }
            if (state.Alert is not { } alert || ++state.Missed < _consecutive) continue;
            state.Recent.Clear();
            var message = _wording?.Invoke(AlertEventKind.Resolved, series, alert.Level, AlertLevel.None, alert.Value, threshold: null)
                ?? $"{series} on {_node} is no longer reported: its {Name(alert.Level)} alert is resolved.";
            events.Add(Transition(state, series, _subject == AlertSubjects.Host ? ResourceMetrics.MetricOf(series) : series, alert.Level, AlertLevel.None,
                alert.Value, thresholds: null, at, message));
        }
    }

    /// <summary>Moves a series' alert from one level to another and says so; without thresholds (a series gone) the message is given.</summary>
    private AlertEvent Transition(SeriesState state, string series, string metric, AlertLevel from, AlertLevel to, double value,
        AlertThresholds? thresholds, DateTimeOffset at, string? message = null)
    {
        var kind = from == AlertLevel.None ? AlertEventKind.Raised
            : to == AlertLevel.None ? AlertEventKind.Resolved
            : to > from ? AlertEventKind.Escalated : AlertEventKind.DeEscalated;
        // A host's ids stay as they were; other subjects say theirs, so a model and a host of one name never share an id.
        var prefix = _subject == AlertSubjects.Host ? "" : _subject + ":";
        var id = state.Alert?.AlertId ?? $"{prefix}{_node}:{series}:{at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss.fff", CultureInfo.InvariantCulture)}";
        var unit = ResourceMetrics.Unit(metric);
        var threshold = thresholds?.For(kind == AlertEventKind.Resolved ? from : to);
        message ??= _wording?.Invoke(kind, series, from, to, value, threshold);
        message ??= kind switch
        {
            AlertEventKind.Resolved => $"{series} on {_node} is back to {value:0.##}{unit}, below the {Name(from)} threshold {threshold:0.##}{unit} by the hysteresis margin: resolved.",
            AlertEventKind.Raised => $"{series} on {_node} at {value:0.##}{unit} is {Name(to)} (threshold {threshold:0.##}{unit}).",
            _ => $"{series} on {_node} at {value:0.##}{unit} moved from {Name(from)} to {Name(to)} (threshold {threshold:0.##}{unit}).",
        };
        var e = new AlertEvent
        {
            AlertId = id,
            Node = _node,
            Series = series,
            Metric = metric,
            Kind = kind,
            Level = to,
            PreviousLevel = from,
            Value = value,
            Threshold = threshold,
            Timestamp = at,
            Message = message,
            Subject = _subject,
        };
        state.Alert = ActiveAlert.After(state.Alert, e);
        return e;
    }

    /// <summary>The highest level whose threshold (less the hysteresis margin, when asked) the value reaches.</summary>
    private AlertLevel LevelAt(double value, AlertThresholds thresholds, string metric, bool hysteresis)
    {
        var level = AlertLevel.None;
        foreach (var candidate in Levels)
            if (thresholds.For(candidate) is { } threshold && value >= threshold - (hysteresis ? Margin(metric, threshold) : 0)) level = candidate;
        return level;
    }

    private double Margin(string metric, double threshold) => _margin(metric, threshold);

    private SeriesState State(string series) =>
        _states.TryGetValue(series, out var state) ? state : _states[series] = new SeriesState();

    private static string Name(AlertLevel level) => AlertLevels.Name(level);

    private sealed class SeriesState
    {
        public ActiveAlert? Alert { get; set; }
        public int Missed { get; set; }
        /// <summary>The last samples' levels: reached (to enter a level), and reached less the hysteresis margin (to leave one).</summary>
        public Queue<(AlertLevel Up, AlertLevel Down)> Recent { get; } = new();

        public void Push(AlertLevel up, AlertLevel down, int keep)
        {
            Recent.Enqueue((up, down));
            while (Recent.Count > keep) Recent.Dequeue();
        }

        public bool Full(int keep) => Recent.Count >= keep;
    }
}

/// <summary>An alert event's message: the kind, the series, the levels left and entered, the value and the threshold (null for a series no longer reported).</summary>
public delegate string AlertWording(AlertEventKind kind, string series, AlertLevel from, AlertLevel to, double value, double? threshold);
