using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Client;

/// <summary>Benchmark runs: start one and follow it, read, cancel, list, report, and compare with earlier runs.</summary>
public sealed partial class KyrosPerfClient
{
    private IBenchmarkDirectoryGrain Benchmarks => Cluster.GetGrain<IBenchmarkDirectoryGrain>(0);

    /// <summary>Submits a run and answers at once: queued, or running when a slot was free.</summary>
    public Task<BenchmarkRun> StartBenchmarkAsync(BenchmarkConfig config)
    {
        // The shape is checked here; the silo checks its own limits and the catalog.
        BenchmarkValidator.Validate(config, BenchmarkLimits.Widest);
        return Call(() => Benchmarks.SubmitAsync(config));
    }

    /// <summary>
    /// Submits a run and follows it until it finishes, reporting it (with its progress) every <paramref name="poll"/>
    /// (1 s by default). Cancelling <paramref name="cancellationToken"/> cancels the run.
    /// </summary>
    public async Task<BenchmarkRun> RunBenchmarkAsync(BenchmarkConfig config, IProgress<BenchmarkRun>? progress = null, TimeSpan? poll = null,
        CancellationToken cancellationToken = default)
    {
        var run = await StartBenchmarkAsync(config);
        try
        {
            while (!BenchmarkStatuses.IsFinished(run.Status))
            {
                progress?.Report(run);
                await Task.Delay(poll ?? TimeSpan.FromSeconds(1), Time, cancellationToken);
                run = await GetBenchmarkAsync(run.Id);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CancelBenchmarkAsync(run.Id);
            throw;
        }
        progress?.Report(run);
        return run;
    }

    /// <summary>The run with its progress and the results of its finished cells; <see cref="BenchmarkNotFoundException"/> for an unknown id.</summary>
    public Task<BenchmarkRun> GetBenchmarkAsync(string id) => Retried(() => Run(id).GetAsync());

    /// <summary>Cancels a queued or running run; the cells it finished stay.</summary>
    public Task<BenchmarkRun> CancelBenchmarkAsync(string id) => Call(() => Run(id).CancelAsync());

    /// <summary>The newest runs first (1-1,000).</summary>
    public Task<BenchmarkRun[]> ListBenchmarksAsync(int limit = 50)
    {
        if (limit is < 1 or > 1000) throw new ArgumentException($"limit must be within 1..1000 (got {limit}).", "limit");
        return Retried(() => Benchmarks.ListAsync(limit));
    }

    /// <summary>The report as <c>json</c>, <c>csv</c> or <c>markdown</c> (tables, the comparison with earlier runs, SVG charts).</summary>
    public Task<BenchmarkReportDocument> GetBenchmarkReportAsync(string id, string format = BenchmarkReportFormats.Markdown)
    {
        BenchmarkReportFormats.Require(format);
        return Retried(() => Run(id).GetReportAsync(format));
    }

    /// <summary>The raw per-request samples of a run's finished cells.</summary>
    public Task<BenchmarkSample[]> GetBenchmarkSamplesAsync(string id) => Retried(() => Run(id).GetSamplesAsync());

    /// <summary>How a run compares with earlier runs of its configuration (by config key or run id).</summary>
    public Task<BenchmarkTrendReport> GetBenchmarkTrendsAsync(BenchmarkTrendQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Config is null && query.Run is null) throw new ArgumentException("config or run is required: the configuration to compare.", "config");
        if (query.Run is not null) BenchmarkValidator.RequireId(query.Run);
        return Retried(() => Benchmarks.GetTrendsAsync(query));
    }

    private IBenchmarkGrain Run(string id) => Cluster.GetGrain<IBenchmarkGrain>(BenchmarkValidator.RequireId(id));
}
