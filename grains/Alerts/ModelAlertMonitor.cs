using System.Globalization;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Alerts;

/// <summary>What the catalog holds a model to; each null leaves its rule to the baseline (latency) or off (availability).</summary>
public sealed record ModelSlos(double? LatencySeconds = null, double? TtftSeconds = null, double? Availability = null);

/// <summary>
/// A model's windows at one evaluation: the rules' window (<c>Kyros:Alerts:ErrorRateWindow</c>), 1 h (the burn rate's
/// long window; null when the model has no availability SLO) and 24 h (the latency baseline; null when both latencies have SLOs).
/// </summary>
public sealed record ModelWindows(ModelSummary Window, ModelSummary? Hour, ModelSummary? Day);

/// <summary>
/// One model's alert rules (docs/alerts.md#model-and-key-alerts), evaluated on its summaries; levels, consecutive
/// evaluations and hysteresis are <see cref="AlertEvaluator"/>'s. A rule with fewer calls than its minimum in the
/// window reports nothing, so an alert whose model stops being called resolves after as many evaluations.
/// </summary>
public sealed class ModelAlertMonitor
{
    public const string ErrorRate = "error_rate", LatencyP95 = "latency_p95", TtftP95 = "ttft_p95", ErrorBudgetBurn = "error_budget_burn";
    public static readonly IReadOnlyList<string> Series = [ErrorRate, LatencyP95, TtftP95, ErrorBudgetBurn];

    private readonly string _model;
    private readonly AlertEvaluator _evaluator;
    // Each series' thresholds and what they were measured against, at this evaluation: the wording reads them.
    private readonly Dictionary<string, (AlertThresholds Levels, string Figures, string Against)> _now = new(StringComparer.Ordinal);
    private ModelAlertRules _rules = ModelAlertRules.Default;
    private string _window = "";

    public ModelAlertMonitor(string model, AlertOptions options)
    {
        _model = model;
        _evaluator = new AlertEvaluator(model, AlertSubjects.Model, options.ConsecutiveEvaluations,
            (_, threshold) => options.HysteresisFraction * threshold, Word);
    }

    public IEnumerable<ActiveAlert> Active => _evaluator.Active;

    public void Restore(IEnumerable<ActiveAlert> active) => _evaluator.Restore(active);

    public List<AlertEvent> Evaluate(DateTimeOffset at, ModelWindows windows, ModelSlos slos, ModelAlertRules rules)
    {
        _rules = rules;
        _window = windows.Window.Window;
        _now.Clear();
        var values = new List<(string Series, string Metric, double Value)>();
        void Add(string series, double value, ModelRuleLevels levels, double scale, string figures, string against)
        {
            _now[series] = (new AlertThresholds(levels.Warning * scale, levels.Critical * scale, double.MaxValue), figures, against);
            values.Add((series, series, value));
        }

        var w = windows.Window;
        var failed = w.Count - w.SuccessCount;
        if (w.Count >= rules.ErrorRate.MinCalls)
            Add(ErrorRate, w.ErrorRate * 100, rules.ErrorRate, 1, $"{Percent(w.ErrorRate)} over {_window} ({failed} of {w.Count} calls failed)", "");

        Latency(LatencyP95, "p95 latency", w.Latency.P95, w.Latency.SampleCount, windows.Day?.Latency.P95, windows.Day?.Latency.SampleCount ?? 0, slos.LatencySeconds, Add);
        Latency(TtftP95, "p95 time to first token", w.Ttft.P95, w.Ttft.SampleCount, windows.Day?.Ttft.P95, windows.Day?.Ttft.SampleCount ?? 0, slos.TtftSeconds, Add);

        if (slos.Availability is { } slo && windows.Hour is { } hour && w.Count >= rules.ErrorBudgetBurn.MinCalls && hour.Count >= rules.ErrorBudgetBurn.MinCalls)
        {
            var budget = 1 - slo;
            double shortBurn = w.ErrorRate / budget, longBurn = hour.ErrorRate / budget;
            // Both windows must burn: the long one says it matters, the short one that it is still happening.
            Add(ErrorBudgetBurn, Math.Min(shortBurn, longBurn), rules.ErrorBudgetBurn, 1,
                $"{Number(shortBurn)}× over {_window} and {Number(longBurn)}× over 1h ({Percent(w.ErrorRate)} and {Percent(hour.ErrorRate)} errors)",
                $" against {Percent(slo, "0.###")} availability");
        }

        return _evaluator.Evaluate(at, values, metric => _now.TryGetValue(metric, out var t) ? t.Levels : null);
    }

    /// <summary>A latency against the catalog's SLO when it sets one, else against the model's own 24 h p95.</summary>
    private void Latency(string series, string what, double? p95, long samples, double? baseline, long baselineSamples, double? slo,
        Action<string, double, ModelRuleLevels, double, string, string> add)
    {
        if (p95 is not { } value) return;
        if (slo is { } target)
        {
            if (samples >= _rules.LatencySlo.MinCalls)
                add(series, value, _rules.LatencySlo, target, $"{what} {Seconds(value)} over {_window}", $" (SLO {Seconds(target)}, {Number(value / target)}× it)");
            return;
        }
        if (baseline is not { } b || b <= 0 || samples < _rules.LatencyBaseline.MinCalls || baselineSamples < _rules.LatencyBaseline.MinCalls) return;
        add(series, value, _rules.LatencyBaseline, b, $"{what} {Seconds(value)} over {_window}", $" (24h baseline {Seconds(b)}, {Number(value / b)}× it)");
    }

    private string Word(AlertEventKind kind, string series, AlertLevel from, AlertLevel to, double value, double? threshold)
    {
        var unit = series == ErrorRate ? "%" : series == ErrorBudgetBurn ? "×" : " s";
        var limit = threshold is { } t ? $"{Number(t)}{unit}" : "";
        if (!_now.TryGetValue(series, out var now))
        {
            var minimum = series switch
            {
                ErrorRate => _rules.ErrorRate.MinCalls,
                ErrorBudgetBurn => _rules.ErrorBudgetBurn.MinCalls,
                _ => Math.Min(_rules.LatencySlo.MinCalls, _rules.LatencyBaseline.MinCalls),
            };
            return $"Model {_model}: {series} has fewer than {minimum} calls over {_window} to judge by: its {AlertLevels.Name(from)} alert is resolved.";
        }
        return kind switch
        {
            AlertEventKind.Resolved => $"Model {_model}: {series} is back to {now.Figures}{now.Against}, below the {AlertLevels.Name(from)} threshold {limit} by the hysteresis margin: resolved.",
            AlertEventKind.Raised => $"Model {_model}: {series} is {AlertLevels.Name(to)} at {now.Figures}{now.Against} (threshold {limit}).",
            _ => $"Model {_model}: {series} moved from {AlertLevels.Name(from)} to {AlertLevels.Name(to)} at {now.Figures}{now.Against} (threshold {limit}).",
        };
    }

    private static string Percent(double share, string format = "0.#") => (share * 100).ToString(format, CultureInfo.InvariantCulture) + "%";
    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
