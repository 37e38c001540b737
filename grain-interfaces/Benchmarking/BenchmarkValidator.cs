using System.Text.RegularExpressions;

namespace Kyros.Perf.Benchmarking;

/// <summary>What a silo allows a run (from <c>Kyros:Benchmark</c>).</summary>
[GenerateSerializer, Immutable, Alias("kyros.BenchmarkLimits")]
public sealed record BenchmarkLimits(
    [property: Id(0)] int MaxConcurrency = 256,
    [property: Id(1)] double MaxDurationSeconds = 3600,
    [property: Id(2)] int MaxRequestsPerRun = 1_000_000)
{
    /// <summary>The largest limits a silo may be configured with: what a client checks before it knows the silo's.</summary>
    public static readonly BenchmarkLimits Widest = new(10_000, 86_400, 100_000_000);
}

/// <summary>
/// A run's input rules, shared by the SDK, HTTP and the grains: an error names the field in snake_case, with its index
/// where it is in a list (<c>concurrency_levels[2]</c>). Whether a model exists is the catalog's to say.
/// </summary>
public static partial class BenchmarkValidator
{
    public const int MaxPromptChars = 100_000;
    public const int MaxPrompts = 10_000;
    public const int MaxModels = 100;
    public const int MaxIterations = 100_000;
    public const int MaxOutputTokens = 100_000;
    public const double MaxTargetRps = 100_000;

    public static void Validate(BenchmarkConfig c, BenchmarkLimits limits)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.ModelTypes is null || c.ModelTypes.Length == 0) throw new ArgumentException("model_types must name at least one model.", "model_types");
        if (c.ModelTypes.Length > MaxModels) throw new ArgumentException($"model_types may name at most {MaxModels} models.", "model_types");
        for (var i = 0; i < c.ModelTypes.Length; i++)
        {
            if (string.IsNullOrWhiteSpace(c.ModelTypes[i])) throw new ArgumentException("must name a model.", $"model_types[{i}]");
            if (Array.IndexOf(c.ModelTypes, c.ModelTypes[i]) != i) throw new ArgumentException($"names {c.ModelTypes[i]} twice.", $"model_types[{i}]");
        }
        if (c.TestPrompts is null || c.TestPrompts.Length == 0) throw new ArgumentException("test_prompts must hold at least one prompt.", "test_prompts");
        if (c.TestPrompts.Length > MaxPrompts) throw new ArgumentException($"test_prompts may hold at most {MaxPrompts} prompts.", "test_prompts");
        for (var i = 0; i < c.TestPrompts.Length; i++)
        {
            var p = c.TestPrompts[i];
            if (p is null || string.IsNullOrWhiteSpace(p.Prompt)) throw new ArgumentException("must not be empty.", $"test_prompts[{i}].prompt");
            if (p.Prompt.Length > MaxPromptChars) throw new ArgumentException($"is longer than {MaxPromptChars} characters.", $"test_prompts[{i}].prompt");
            if (p.Expected is { Length: > MaxPromptChars }) throw new ArgumentException($"is longer than {MaxPromptChars} characters.", $"test_prompts[{i}].expected");
        }
        if (c.IterationsPerModel is < 1 or > MaxIterations)
            throw new ArgumentException($"iterations_per_model must be within 1..{MaxIterations} (got {c.IterationsPerModel}).", "iterations_per_model");
        if (c.ConcurrencyLevels is null || c.ConcurrencyLevels.Length == 0)
            throw new ArgumentException("concurrency_levels must hold at least one level.", "concurrency_levels");
        for (var i = 0; i < c.ConcurrencyLevels.Length; i++)
            if (c.ConcurrencyLevels[i] < 1 || c.ConcurrencyLevels[i] > limits.MaxConcurrency)
                throw new ArgumentException($"must be within 1..{limits.MaxConcurrency} (got {c.ConcurrencyLevels[i]}).", $"concurrency_levels[{i}]");
        if (c.MetricsToCollect is null || c.MetricsToCollect.Length == 0)
            throw new ArgumentException($"metrics_to_collect must name at least one of {string.Join(", ", BenchmarkMetrics.All)}.", "metrics_to_collect");
        for (var i = 0; i < c.MetricsToCollect.Length; i++)
            if (!BenchmarkMetrics.All.Contains(c.MetricsToCollect[i]))
                throw new ArgumentException($"'{c.MetricsToCollect[i]}' is not a metric: use {string.Join(", ", BenchmarkMetrics.All)}.", $"metrics_to_collect[{i}]");
        if (c.MaxTokens is < 1 or > MaxOutputTokens) throw new ArgumentException($"max_tokens must be within 1..{MaxOutputTokens} (got {c.MaxTokens}).", "max_tokens");
        if (c.Slo is null) throw new ArgumentException("slo must be an object.", "slo");
        Positive(c.Slo.TtftSeconds, "slo.ttft_seconds");
        Positive(c.Slo.LatencySeconds, "slo.latency_seconds");
        if (c.Load is { } load)
        {
            if (!double.IsFinite(load.TargetRps) || load.TargetRps <= 0 || load.TargetRps > MaxTargetRps)
                throw new ArgumentException($"must be above 0 and at most {MaxTargetRps} (got {load.TargetRps}).", "load.target_rps");
            if (!double.IsFinite(load.DurationSeconds) || load.DurationSeconds <= 0 || load.DurationSeconds > limits.MaxDurationSeconds)
                throw new ArgumentException($"must be above 0 and at most {limits.MaxDurationSeconds} (got {load.DurationSeconds}).", "load.duration_seconds");
            if (load.RampSteps is < 1 or > 100) throw new ArgumentException($"must be within 1..100 (got {load.RampSteps}).", "load.ramp_steps");
            if (load.MaxInFlight < 1 || load.MaxInFlight > limits.MaxConcurrency * 16)
                throw new ArgumentException($"must be within 1..{limits.MaxConcurrency * 16} (got {load.MaxInFlight}).", "load.max_in_flight");
        }
        if (c.Name is not null && !NamePattern().IsMatch(c.Name))
            throw new ArgumentException("name must be 1-128 letters, digits, '.', '_' or '-'.", "name");
        var planned = PlannedRequests(c);
        if (planned > limits.MaxRequestsPerRun)
            throw new ArgumentException($"the run would send about {planned:N0} requests, more than the {limits.MaxRequestsPerRun:N0} allowed: " +
                                        "lower iterations_per_model, the levels or the load.", "iterations_per_model");
    }

    /// <summary>Requests the run plans: every model at every level, plus the load test's expected arrivals.</summary>
    public static long PlannedRequests(BenchmarkConfig c) =>
        (long)c.ModelTypes.Length * c.IterationsPerModel * c.ConcurrencyLevels.Length
        + (c.Load is { } load ? (long)Math.Ceiling(c.ModelTypes.Length * ExpectedArrivals(load)) : 0);

    /// <summary>Arrivals a load test expects per model: the ramp's steps climb to the target rate in equal parts of the duration.</summary>
    public static double ExpectedArrivals(BenchmarkLoad load) =>
        load.DurationSeconds / load.RampSteps * Enumerable.Range(1, load.RampSteps).Sum(step => load.TargetRps * step / load.RampSteps);

    /// <summary>A run id: <c>bench-</c> and 1-64 letters, digits, '_' or '-'.</summary>
    public static string RequireId(string? id) =>
        id is not null && IdPattern().IsMatch(id) ? id : throw new ArgumentException("id must name a benchmark run.", "id");

    private static void Positive(double? value, string field)
    {
        if (value is { } v && (!double.IsFinite(v) || v <= 0 || v > 86_400)) throw new ArgumentException($"must be above 0 and at most 86400 (got {v}).", field);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,128}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
