using System.Globalization;

namespace Kyros.Perf.Alerts;

/// <summary>
/// The levels of one model alert rule: warning and critical (a value at or above breaches), and the fewest calls in the
/// window below which the rule says nothing (a p95 or an error rate of a handful of calls is noise).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelRuleLevels")]
public sealed record ModelRuleLevels(
    [property: Id(0)] double Warning,
    [property: Id(1)] double Critical,
    [property: Id(2)] int MinCalls = ModelAlertRules.DefaultMinCalls);

/// <summary>
/// The cluster's model alert rules. <c>error_rate</c> is in percent of the window's calls; <c>latency_baseline</c> is a
/// factor of the model's own 24 h p95 (latency and time to first token); <c>latency_slo</c> a factor of the catalog's
/// <c>latency_slo_seconds</c> / <c>ttft_slo_seconds</c>, used instead of the baseline where the catalog sets them;
/// <c>error_budget_burn</c> the burn rate of the catalog's <c>availability_slo</c> over both the window and 1 h.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelAlertRules")]
public sealed record ModelAlertRules(
    [property: Id(0)] ModelRuleLevels ErrorRate,
    [property: Id(1)] ModelRuleLevels LatencyBaseline,
    [property: Id(2)] ModelRuleLevels LatencySlo,
    [property: Id(3)] ModelRuleLevels ErrorBudgetBurn)
{
    public const int DefaultMinCalls = 20;
    public const string ErrorRateRule = "error_rate", LatencyBaselineRule = "latency_baseline", LatencySloRule = "latency_slo", ErrorBudgetBurnRule = "error_budget_burn";
    public static readonly IReadOnlyList<string> Names = [ErrorRateRule, LatencyBaselineRule, LatencySloRule, ErrorBudgetBurnRule];

    /// <summary>On by default: 10 % / 25 % errors, 2× / 3× the baseline, 1× / 2× the SLO, burn 6 / 14.4 (the SRE book's fast-burn pages).</summary>
    public static readonly ModelAlertRules Default = new(new(10, 25), new(2, 3), new(1, 2), new(6, 14.4));

    public ModelRuleLevels Of(string rule) => rule switch
    {
        ErrorRateRule => ErrorRate,
        LatencyBaselineRule => LatencyBaseline,
        LatencySloRule => LatencySlo,
        ErrorBudgetBurnRule => ErrorBudgetBurn,
        _ => throw UnknownRule(rule),
    };

    /// <summary>These rules with one rule's levels replaced, after checking them (an ArgumentException naming the field).</summary>
    public ModelAlertRules With(string rule, ModelRuleLevels levels)
    {
        Validate(rule, levels);
        return rule switch
        {
            ErrorRateRule => this with { ErrorRate = levels },
            LatencyBaselineRule => this with { LatencyBaseline = levels },
            LatencySloRule => this with { LatencySlo = levels },
            _ => this with { ErrorBudgetBurn = levels },
        };
    }

    /// <summary>Levels must be finite, rise (warning below critical), and stay in the rule's range.</summary>
    public static void Validate(string rule, ModelRuleLevels levels)
    {
        if (!Names.Contains(rule)) throw UnknownRule(rule);
        var (low, high) = rule switch
        {
            ErrorRateRule => (0.0, 100.0),
            ErrorBudgetBurnRule => (0.0, 1000.0),
            _ => (0.0, 100.0),
        };
        Check(levels.Warning, "warning", low, high);
        Check(levels.Critical, "critical", low, high);
        if (levels.Critical <= levels.Warning)
            throw new ArgumentException($"critical ({levels.Critical.ToString(CultureInfo.InvariantCulture)}) must be above warning ({levels.Warning.ToString(CultureInfo.InvariantCulture)}).", "critical");
        if (levels.MinCalls is < 1 or > 1_000_000) throw new ArgumentException($"min_calls must be within 1..1000000; got {levels.MinCalls}.", "min_calls");
    }

    private static void Check(double value, string field, double low, double high)
    {
        if (!double.IsFinite(value) || value <= low || value > high)
            throw new ArgumentException($"{field} must be above {low.ToString(CultureInfo.InvariantCulture)} and at most {high.ToString(CultureInfo.InvariantCulture)}; got {value.ToString(CultureInfo.InvariantCulture)}.", field);
    }

    private static ArgumentException UnknownRule(string rule) =>
        new($"rule '{rule}' is not a model alert rule; use one of {string.Join(", ", Names)}.", "rule");
}

/// <summary>The model rules at a version: every silo's model grains evaluate with the newest.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelAlertRulesSnapshot")]
public sealed record ModelAlertRulesSnapshot([property: Id(0)] long Version, [property: Id(1)] ModelAlertRules Rules);
