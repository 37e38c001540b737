using Orleans.Concurrency;

namespace Kyros.Perf.Benchmarking;

/// <summary>
/// One benchmark run (keyed by its id): it runs its requests off the grain's turn, keeps its status and the results of
/// every finished cell in grain state and its raw samples in SQLite as it goes, and answers its report.
/// </summary>
[Alias("kyros.IBenchmarkGrain")]
public interface IBenchmarkGrain : IGrainWithStringKey
{
    /// <summary>Takes a new run as queued (the directory calls this once).</summary>
    [Alias("create")]
    Task<BenchmarkRun> CreateAsync(BenchmarkConfig config, string configKey);

    /// <summary>Starts a queued run (the directory calls this when a slot is free).</summary>
    [Alias("start")]
    Task<BenchmarkRun> StartAsync();

    /// <summary>The run; throws <see cref="BenchmarkNotFoundException"/> for an id no run has.</summary>
    [AlwaysInterleave, Alias("get")]
    Task<BenchmarkRun> GetAsync();

    /// <summary>Cancels a queued or running run (partial results stay); a finished run is answered as it is.</summary>
    [AlwaysInterleave, Alias("cancel")]
    Task<BenchmarkRun> CancelAsync();

    /// <summary>The report: <c>json</c>, <c>csv</c> or <c>markdown</c> (with the comparison to earlier runs and SVG charts).</summary>
    [AlwaysInterleave, Alias("report")]
    Task<BenchmarkReportDocument> GetReportAsync(string format);

    /// <summary>The raw per-request samples of the cells finished so far.</summary>
    [AlwaysInterleave, Alias("samples")]
    Task<BenchmarkSample[]> GetSamplesAsync();
}

/// <summary>
/// The cluster's list of runs and its queue (key 0): at most <c>MaxConcurrentRuns</c> run at once, the rest wait in order.
/// It also looks after runs whose silo died, so that none is left <c>running</c>.
/// </summary>
[Alias("kyros.IBenchmarkDirectoryGrain")]
public interface IBenchmarkDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>Validates the config against the catalog and the limits, creates the run, and starts it or queues it.</summary>
    [Alias("submit")]
    Task<BenchmarkRun> SubmitAsync(BenchmarkConfig config);

    /// <summary>The newest runs first.</summary>
    [Alias("list")]
    Task<BenchmarkRun[]> ListAsync(int limit);

    /// <summary>A run tells the directory it has finished, freeing its slot.</summary>
    [Alias("finished")]
    Task FinishedAsync(string id);

    /// <summary>How a run compares with earlier runs of the same configuration.</summary>
    [AlwaysInterleave, Alias("trends")]
    Task<BenchmarkTrendReport> GetTrendsAsync(BenchmarkTrendQuery query);
}

[GenerateSerializer, Immutable, Alias("kyros.BenchmarkReportDocument")]
public sealed record BenchmarkReportDocument(
    [property: Id(0)] string Format,
    [property: Id(1)] string ContentType,
    [property: Id(2)] string Content);

/// <summary>An id that no benchmark run has.</summary>
[GenerateSerializer, Alias("kyros.BenchmarkNotFoundException")]
public sealed class BenchmarkNotFoundException(string message) : Exception(message);

public static class BenchmarkReportFormats
{
    public const string Json = "json";
    public const string Csv = "csv";
    public const string Markdown = "markdown";

    public static readonly IReadOnlyList<string> All = [Json, Csv, Markdown];

    public static string Require(string? format) =>
        format is not null && All.Contains(format) ? format : throw new ArgumentException($"format must be one of {string.Join(", ", All)}.", "format");
}
