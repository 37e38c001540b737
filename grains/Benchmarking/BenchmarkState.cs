namespace Kyros.Perf.Benchmarking;

/// <summary>A run's grain state: the run as it stands (its raw samples are in SQLite).</summary>
[GenerateSerializer, Alias("kyros.BenchmarkState")]
public sealed class BenchmarkState
{
    [Id(0)] public BenchmarkRun? Run { get; set; }
}
