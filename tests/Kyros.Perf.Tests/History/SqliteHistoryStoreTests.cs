using Kyros.Perf.History;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.History;

public sealed class SqliteHistoryStoreTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private readonly string _directory = Directory.CreateTempSubdirectory("kyros-history-").FullName;
    private readonly FakeTimeProvider _time = new(Start.AddHours(1));

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Rollups_read_back_with_their_sketches_after_a_restart()
    {
        var aggregate = Aggregate(Records.LogNormalSeconds(1_000, seed: 2));
        await using (var store = await StartAsync())
        {
            await store.WriteAsync([new HistoryRow("gpt-4", HistoryResolution.Minute, Start, aggregate)]);
            await store.WriteAsync([new HistoryRow("gpt-4", HistoryResolution.Minute, Start.AddMinutes(1), Aggregate([0.5]))]);
        }

        await using var restarted = await StartAsync();
        var rows = await restarted.QueryAsync("gpt-4", HistoryResolution.Minute, Start, Start.AddHours(1));
        Assert.Equal(2, rows.Count);
        Assert.Equal(Start, rows[0].Start);
        Assert.Equal(aggregate.Count, rows[0].Aggregate.Count);
        Assert.Equal(aggregate.Latency.Quantile(0.99), rows[0].Aggregate.Latency.Quantile(0.99));
        Assert.Empty(await restarted.QueryAsync("gpt-4", HistoryResolution.Hour, Start, Start.AddHours(1)));
        Assert.Empty(await restarted.QueryAsync("claude", HistoryResolution.Minute, Start, Start.AddHours(1)));
    }

    [Fact]
    public async Task Writing_a_bucket_again_replaces_it()
    {
        await using var store = await StartAsync();
        await store.WriteAsync([new HistoryRow("gpt-4", HistoryResolution.Hour, Start, Aggregate([1]))]);
        await store.WriteAsync([new HistoryRow("gpt-4", HistoryResolution.Hour, Start, Aggregate([1, 2, 3]))]);
        var row = Assert.Single(await store.QueryAsync("gpt-4", HistoryResolution.Hour, Start, Start.AddDays(1)));
        Assert.Equal(3, row.Aggregate.Count);
    }

    [Fact]
    public async Task Minutes_past_their_retention_are_deleted_and_hours_kept()
    {
        await using var store = await StartAsync();
        await store.WriteAsync([
            new HistoryRow("gpt-4", HistoryResolution.Minute, Start, Aggregate([1])),
            new HistoryRow("gpt-4", HistoryResolution.Hour, Start, Aggregate([1])),
        ]);
        _time.Advance(TimeSpan.FromDays(8));
        await store.WriteAsync([new HistoryRow("gpt-4", HistoryResolution.Minute, _time.GetUtcNow(), Aggregate([1]))]);

        Assert.Empty(await store.QueryAsync("gpt-4", HistoryResolution.Minute, Start, Start.AddDays(1)));
        Assert.Single(await store.QueryAsync("gpt-4", HistoryResolution.Hour, Start, Start.AddDays(1)));
    }

    private async Task<StoreHandle> StartAsync()
    {
        var store = new SqliteHistoryStore(Options.Create(new HistoryOptions { DatabasePath = Path.Combine(_directory, "history.db") }),
            _time, NullLogger<SqliteHistoryStore>.Instance);
        await store.StartAsync(CancellationToken.None);
        return new StoreHandle(store);
    }

    private static MetricsAggregate Aggregate(IEnumerable<double> seconds)
    {
        var aggregate = new MetricsAggregate();
        var at = Start;
        foreach (var s in seconds) aggregate.Add(Records.Valid(seconds: s, at: at));
        return aggregate;
    }

    private sealed class StoreHandle(SqliteHistoryStore store) : IAsyncDisposable
    {
        public Task WriteAsync(IReadOnlyList<HistoryRow> rows) => store.WriteAsync(rows);

        public Task<IReadOnlyList<(DateTimeOffset Start, MetricsAggregate Aggregate)>> QueryAsync(string model, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to) =>
            store.QueryAsync(model, resolution, from, to);

        public async ValueTask DisposeAsync()
        {
            await store.StopAsync(CancellationToken.None);
            store.Dispose();
        }
    }
}
