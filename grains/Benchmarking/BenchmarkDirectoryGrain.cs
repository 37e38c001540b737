using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Microsoft.Extensions.Options;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Benchmarking;

/// <summary>
/// The cluster's runs (key 0): submits them, keeps at most <see cref="BenchmarkOptions.MaxConcurrentRuns"/> running and
/// the rest queued in order, and sweeps its running runs every few seconds, so that a run whose silo died (which its next
/// activation marks failed) frees its slot.
/// </summary>
public sealed class BenchmarkDirectoryGrain(
    [PersistentState("benchmarks", KyrosStorage.Name)] IPersistentState<BenchmarkDirectoryState> state,
    ModelCatalog catalog,
    BenchmarkTrendsReader trends,
    IOptions<BenchmarkOptions> options,
    TimeProvider time) : Grain, IBenchmarkDirectoryGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);
    /// <summary>Run ids the directory lists (older runs stay readable by id and in trends).</summary>
    private const int RecentCapacity = 1000;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        this.RegisterGrainTimer(_ => SweepAsync(), new GrainTimerCreationOptions(SweepInterval, SweepInterval) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public async Task<BenchmarkRun> SubmitAsync(BenchmarkConfig config)
    {
        BenchmarkValidator.Validate(config, options.Value.Limits);
        for (var i = 0; i < config.ModelTypes.Length; i++)
            // A benchmark times generations (first token, pace): an embedding model has neither.
            if (catalog.EnsureKnown(config.ModelTypes[i], $"model_types[{i}]").Kind != ModelKinds.Chat)
                throw new ArgumentException($"model_types[{i}] '{config.ModelTypes[i]}' is an embedding model; a benchmark runs chat generations.", $"model_types[{i}]");
        var id = $"bench-{time.GetUtcNow():yyyyMMdd-HHmmss}-{RandomNumberGenerator.GetHexString(6, lowercase: true)}";
        await Run(id).CreateAsync(config, ConfigKey(config));
        state.State.Recent.Add(id);
        if (state.State.Recent.Count > RecentCapacity) state.State.Recent.RemoveRange(0, state.State.Recent.Count - RecentCapacity);
        state.State.Queued.Add(id);
        await StartQueuedAsync();
        return await Run(id).GetAsync();
    }

    public async Task<BenchmarkRun[]> ListAsync(int limit)
    {
        if (limit is < 1 or > RecentCapacity) throw new ArgumentException($"limit must be within 1..{RecentCapacity} (got {limit}).", "limit");
        await SweepAsync();
        return await Task.WhenAll(state.State.Recent.AsEnumerable().Reverse().Take(limit).Select(id => Run(id).GetAsync()));
    }

    public async Task FinishedAsync(string id)
    {
        state.State.Running.Remove(id);
        state.State.Queued.Remove(id);
        await StartQueuedAsync();
    }

    public Task<BenchmarkTrendReport> GetTrendsAsync(BenchmarkTrendQuery query) => trends.ReadAsync(query);

    /// <summary>
    /// The name runs are compared under: the config's own, or a digest of what the run measures (models, prompts,
    /// iterations, levels, tokens, load, SLO), so that two runs of the same configuration meet without naming it.
    /// </summary>
    public static string ConfigKey(BenchmarkConfig config)
    {
        if (config.Name is { } name) return name;
        var measured = JsonSerializer.SerializeToUtf8Bytes(new
        {
            config.ModelTypes, config.TestPrompts, config.IterationsPerModel, config.ConcurrencyLevels, config.MaxTokens, config.Load, config.Slo,
        }, KyrosJson.Options);
        return $"cfg-{Convert.ToHexStringLower(SHA256.HashData(measured))[..12]}";
    }

    private IBenchmarkGrain Run(string id) => GrainFactory.GetGrain<IBenchmarkGrain>(id);

    /// <summary>Frees the slots of runs that finished (or died with their silo), then starts what the queue holds.</summary>
    private async Task SweepAsync()
    {
        var before = state.State.Running.Count;
        foreach (var id in state.State.Running.ToArray())
            if (BenchmarkStatuses.IsFinished((await Run(id).GetAsync()).Status)) state.State.Running.Remove(id);
        if (state.State.Running.Count != before || state.State.Queued.Count > 0) await StartQueuedAsync();
    }

    private async Task StartQueuedAsync()
    {
        while (state.State.Running.Count < options.Value.MaxConcurrentRuns && state.State.Queued.Count > 0)
        {
            var id = state.State.Queued[0];
            state.State.Queued.RemoveAt(0);
            // A run cancelled while it waited answers as it is, and takes no slot.
            if ((await Run(id).StartAsync()).Status == BenchmarkStatus.Running) state.State.Running.Add(id);
        }
        await state.WriteStateAsync();
    }
}
