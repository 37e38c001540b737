using System.Collections.Concurrent;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.History;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Benchmarking;

/// <summary>
/// One benchmark run. Its requests go out on the thread pool (a <see cref="BenchmarkRunner"/>), off the grain's turn, so
/// that the schedule is kept; a timer gathers each finished cell into grain state and its samples into SQLite as the run
/// goes. A run found <c>running</c> by a new activation lost its silo: it is marked failed, its finished cells kept.
/// </summary>
public sealed class BenchmarkGrain(
    [PersistentState("benchmark", KyrosStorage.Name)] IPersistentState<BenchmarkState> state,
    ModelCatalog catalog,
    SqliteHistoryStore history,
    ClusterHistory clusterHistory,
    IBenchmarkBackend backend,
    BenchmarkTrendsReader trends,
    IOptions<BenchmarkOptions> options,
    TimeProvider time,
    ILocalSiloDetails silo,
    ILogger<BenchmarkGrain> logger) : Grain, IBenchmarkGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private static readonly TimeSpan PumpInterval = TimeSpan.FromMilliseconds(250);
    private readonly ConcurrentQueue<BenchmarkCell> _cells = new();
    private readonly SemaphoreSlim _pumping = new(1, 1);
    private BenchmarkRunner? _runner;
    private Task? _execution;
    private CancellationTokenSource? _cancel;
    private IGrainTimer? _pump;
    private int _total;

    private string Id => this.GetPrimaryKeyString();

    private BenchmarkRun Run => state.State.Run ?? throw new BenchmarkNotFoundException($"No benchmark run has id '{Id}'.");

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Run is { Status: BenchmarkStatus.Running } orphan)
        {
            // Nothing runs it any more: its runner died with the silo that held it.
            await FinishAsync(orphan with
            {
                Status = BenchmarkStatus.Failed,
                FinishedAt = time.GetUtcNow(),
                Error = $"The silo that ran it ({orphan.Silo}) stopped; the {orphan.Results.Length} cells it had finished are kept.",
            }, notify: false);
        }
    }

    public async Task<BenchmarkRun> CreateAsync(BenchmarkConfig config, string configKey)
    {
        if (state.State.Run is { } existing) return existing;
        var run = new BenchmarkRun
        {
            Id = Id,
            Status = BenchmarkStatus.Queued,
            Config = config,
            ConfigKey = configKey,
            CreatedAt = time.GetUtcNow(),
            Progress = new BenchmarkProgress(0, PlannedRequests(config), "queued"),
        };
        state.State.Run = run;
        await state.WriteStateAsync();
        await history.SaveBenchmarkRunAsync(run);
        return run;
    }

    public async Task<BenchmarkRun> StartAsync()
    {
        var queued = Run;
        if (queued.Status != BenchmarkStatus.Queued) return queued;
        var models = queued.Config.ModelTypes.Select(id => catalog.Find(id)).ToArray();
        if (models.Any(m => m is null))
            return await FinishAsync(queued with { Status = BenchmarkStatus.Failed, FinishedAt = time.GetUtcNow(), Error = "A model it names left the catalog." },
                notify: false);
        var run = queued with { Status = BenchmarkStatus.Running, StartedAt = time.GetUtcNow(), Silo = silo.SiloAddress.ToString() };
        state.State.Run = run;
        await state.WriteStateAsync();
        await history.SaveBenchmarkRunAsync(run);

        _total = run.Progress.Total;
        _cancel = new CancellationTokenSource();
        _runner = new BenchmarkRunner(backend);
        var runner = _runner;
        var token = _cancel.Token;
        _execution = Task.Run(() => runner.RunAsync(Id, run.Config, models!, cell =>
        {
            _cells.Enqueue(cell);
            return Task.CompletedTask;
        }, token));
        _pump = this.RegisterGrainTimer(PumpAsync, new GrainTimerCreationOptions(PumpInterval, PumpInterval) { KeepAlive = true });
        logger.LogInformation("Benchmark {Id} started: {Models} models, {Requests} requests planned", Id, models.Length, _total);
        return run;
    }

    public Task<BenchmarkRun> GetAsync()
    {
        var run = Run;
        return Task.FromResult(run.Status == BenchmarkStatus.Running && _runner is { } r
            ? run with { Progress = new BenchmarkProgress(r.Completed, _total, r.Phase) }
            : run);
    }

    public async Task<BenchmarkRun> CancelAsync()
    {
        var run = Run;
        if (run.Status == BenchmarkStatus.Queued)
            return await FinishAsync(run with { Status = BenchmarkStatus.Cancelled, FinishedAt = time.GetUtcNow(), Error = "Cancelled before it started." },
                notify: false);
        if (run.Status != BenchmarkStatus.Running || _execution is null) return run;
        await _cancel!.CancelAsync();
        await _execution.ContinueWith(_ => { }, TaskScheduler.Default);
        await PumpAsync(CancellationToken.None);
        return Run;
    }

    public async Task<BenchmarkReportDocument> GetReportAsync(string format)
    {
        BenchmarkReportFormats.Require(format);
        var run = await GetAsync();
        var samples = await clusterHistory.BenchmarkSamplesAsync(Id);
        var comparison = run.Status == BenchmarkStatus.Completed ? await trends.ReadAsync(new BenchmarkTrendQuery(Run: Id)) : null;
        return BenchmarkReport.Render(run, samples, comparison, format);
    }

    public async Task<BenchmarkSample[]> GetSamplesAsync()
    {
        _ = Run;
        return [.. await clusterHistory.BenchmarkSamplesAsync(Id)];
    }

    /// <summary>Gathers finished cells; once the runner has stopped, finishes the run. One pump at a time.</summary>
    private async Task PumpAsync(CancellationToken cancellationToken)
    {
        await _pumping.WaitAsync(CancellationToken.None);
        try
        {
            if (Run.Status != BenchmarkStatus.Running) return;
            var run = Run;
            var results = new List<BenchmarkResult>(run.Results);
            var gathered = false;
            while (_cells.TryDequeue(out var cell))
            {
                results.Add(BenchmarkStatistics.Summarize(cell.Model, cell.Mode, cell.Concurrency, cell.TargetRps, cell.Samples, cell.WallSeconds, run.Config.Slo));
                await history.AppendBenchmarkSamplesAsync(Id, Kept(cell));
                gathered = true;
            }
            run = run with { Results = [.. results], Progress = new BenchmarkProgress(_runner!.Completed, _total, _runner.Phase) };
            if (_execution is { IsCompleted: true } done)
            {
                var (status, error) = done.Status == TaskStatus.RanToCompletion ? (BenchmarkStatus.Completed, null)
                    : _cancel!.IsCancellationRequested ? (BenchmarkStatus.Cancelled, "Cancelled; the cells finished before are kept.")
                    : (BenchmarkStatus.Failed, done.Exception?.GetBaseException().Message);
                if (status == BenchmarkStatus.Failed) logger.LogWarning(done.Exception, "Benchmark {Id} failed", Id);
                await FinishAsync(run with { Status = status, FinishedAt = time.GetUtcNow(), Error = error }, notify: true);
                return;
            }
            if (!gathered) return;
            state.State.Run = run;
            await state.WriteStateAsync();
            await history.SaveBenchmarkRunAsync(run);
        }
        finally
        {
            _pumping.Release();
        }
    }

    /// <summary>The samples kept for reports and trends: all of them, or a seeded uniform subsample of a very large cell.</summary>
    private BenchmarkSample[] Kept(BenchmarkCell cell)
    {
        var keep = options.Value.SamplesKeptPerCell;
        if (cell.Samples.Length <= keep) return cell.Samples;
        var random = new Random(StableStringHash.Of($"{Id}/{cell.Model}/{cell.Mode}/{cell.Concurrency}"));
        return [.. cell.Samples.OrderBy(_ => random.Next()).Take(keep)];
    }

    private async Task<BenchmarkRun> FinishAsync(BenchmarkRun run, bool notify)
    {
        state.State.Run = run;
        await state.WriteStateAsync();
        await history.SaveBenchmarkRunAsync(run);
        _pump?.Dispose();
        _pump = null;
        logger.LogInformation("Benchmark {Id} {Status}: {Error}", Id, BenchmarkStatuses.Name(run.Status), run.Error ?? "");
        // The directory also sweeps its runs; telling it now frees the slot at once. Never from within a directory call.
        if (notify) await GrainFactory.GetGrain<IBenchmarkDirectoryGrain>(0).FinishedAsync(Id);
        return run;
    }

    private static int PlannedRequests(BenchmarkConfig config) =>
        config.ModelTypes.Length * (config.IterationsPerModel * config.ConcurrencyLevels.Length
                                    + (config.Load is { } load ? OpenLoopSchedule.Arrivals(load, config.Seed).Length : 0));
}
