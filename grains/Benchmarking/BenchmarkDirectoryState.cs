namespace Kyros.Perf.Benchmarking;

/// <summary>The directory's grain state: runs waiting and running, and the ids of recent runs (oldest first).</summary>
[GenerateSerializer, Alias("kyros.BenchmarkDirectoryState")]
public sealed class BenchmarkDirectoryState
{
    [Id(0)] public List<string> Queued { get; set; } = [];
    [Id(1)] public List<string> Running { get; set; } = [];
    [Id(2)] public List<string> Recent { get; set; } = [];
}
