using Microsoft.Extensions.Options;

namespace Kyros.Perf.Benchmarking;

/// <summary><c>Kyros:Benchmark</c>: how many runs go at once and how large one may be.</summary>
public sealed class BenchmarkOptions
{
    public const string Section = "Kyros:Benchmark";

    /// <summary>Runs at once in the cluster; the rest wait in order.</summary>
    public int MaxConcurrentRuns { get; set; } = 2;
    public int MaxConcurrency { get; set; } = 256;
    public double MaxDurationSeconds { get; set; } = 3600;
    public int MaxRequestsPerRun { get; set; } = 1_000_000;
    /// <summary>Samples kept per cell in SQLite for trends and reports (a seeded uniform subsample beyond it); the figures use all.</summary>
    public int SamplesKeptPerCell { get; set; } = 20_000;

    public BenchmarkLimits Limits => new(MaxConcurrency, MaxDurationSeconds, MaxRequestsPerRun);
}

public sealed class BenchmarkOptionsValidator : IValidateOptions<BenchmarkOptions>
{
    public ValidateOptionsResult Validate(string? name, BenchmarkOptions o)
    {
        var errors = new List<string>();
        if (o.MaxConcurrentRuns is < 1 or > 100) errors.Add($"{BenchmarkOptions.Section}:MaxConcurrentRuns must be within 1..100.");
        if (o.MaxConcurrency is < 1 or > 10_000) errors.Add($"{BenchmarkOptions.Section}:MaxConcurrency must be within 1..10000.");
        if (!double.IsFinite(o.MaxDurationSeconds) || o.MaxDurationSeconds is < 1 or > 86_400)
            errors.Add($"{BenchmarkOptions.Section}:MaxDurationSeconds must be within 1..86400.");
        if (o.MaxRequestsPerRun is < 1 or > 100_000_000) errors.Add($"{BenchmarkOptions.Section}:MaxRequestsPerRun must be within 1..100000000.");
        if (o.SamplesKeptPerCell is < 100 or > 1_000_000) errors.Add($"{BenchmarkOptions.Section}:SamplesKeptPerCell must be within 100..1000000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
