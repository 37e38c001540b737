using Kyros.Perf.Resources;

namespace Kyros.Perf.History;

/// <summary>Reads this host's SQLite file for the cluster's history queries (<see cref="ClusterHistory"/>); a stateless reader placed on its host.</summary>
[HostAffinePlacement]
public sealed class HistoryShardGrain(SqliteHistoryStore store) : Grain, IHistoryShardGrain
{
    public Task<HistoryShardRow[]> QueryAsync(string model, int resolutionSeconds, DateTimeOffset from, DateTimeOffset to) =>
        store.QueryShardAsync(model, (HistoryResolution)resolutionSeconds, from, to);

    public async Task<Tuning.TuningHistoryEntry[]> QueryTuningAsync(DateTimeOffset from, DateTimeOffset to, int limit) =>
        [.. await store.QueryTuningAsync(from, to, limit)];

    public async Task<AlertEvent[]> QueryAlertsAsync(DateTimeOffset? since, int limit) => [.. await store.QueryAlertsAsync(since, limit)];

    public async Task<HistoryShardPart<Benchmarking.BenchmarkRun>> QueryBenchmarkRunsAsync(string? configKey, Benchmarking.BenchmarkStatus? status, int limit) =>
        new(File, [.. await store.QueryBenchmarkRunsAsync(configKey, status, limit)]);

    public async Task<HistoryShardPart<Benchmarking.BenchmarkSample>> QueryBenchmarkSamplesAsync(string runId) =>
        new(File, [.. await store.QueryBenchmarkSamplesAsync(runId)]);

    private string File => $"{Environment.MachineName}:{store.DatabasePath}";
}
