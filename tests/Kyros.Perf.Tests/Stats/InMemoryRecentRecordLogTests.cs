using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Stats;

/// <summary>The embedded silo's recent-record log: packed records that come back exactly, dedupe, retention and the cap.</summary>
public sealed class InMemoryRecentRecordLogTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 10, 0, 0, TimeSpan.Zero));

    private InMemoryRecentRecordLog Log(long cap = 1_000_000) =>
        new(Options.Create(new RecentRecordLogOptions { Retention = TimeSpan.FromHours(1), MaxRecordsPerModel = cap }), _time);

    [Fact]
    public async Task Every_field_comes_back_exactly_and_a_request_id_counts_once()
    {
        var log = Log();
        var now = _time.GetUtcNow();
        ModelPerformanceRecord[] records =
        [
            Records.Valid(seconds: 0.123456789, at: now.AddTicks(-1234567)) with { RequestId = "gen.Z3B0LTQ.19a0.0123456789abcdef0123456789abcdef" },
            Records.Valid(at: now.AddMinutes(3)) with { RequestId = Guid.NewGuid().ToString("D"), Instance = null, TimeToFirstToken = null, QualityScore = null },
            Records.Valid(at: now.AddHours(-23)) with { RequestId = "plain-Ωmega-ID", Success = false, ErrorKind = "timeout", Instance = "east" },
            Records.Valid(at: now) with { RequestId = "UPPER0123456789ABCDEF0123456789ABCDEF", IsFeedback = true, Cost = 0, InputTokens = 0, OutputTokens = 0 },
            Records.Valid(at: now) with { RequestId = Guid.NewGuid().ToString("D").ToUpperInvariant(), ErrorKind = "rate_limit", Success = false },
        ];
        var positions = await log.AppendAsync("gpt-4", [.. records, records[2]]);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 0 }, positions);
        var again = await log.AppendAsync("gpt-4", [records[0], records[4]]);
        Assert.Equal(new long[] { 0, 0 }, again);
        Assert.Equal(1, (await log.AppendAsync("claude", [records[0] with { Model = "claude" }]))[0]);

        Assert.Equal(records, (await log.ReadAfterAsync("gpt-4", 0, 100)).Select(e => e.Record));
        Assert.Equal(records[3..], (await log.ReadAfterAsync("gpt-4", 3, 100)).Select(e => e.Record));
        Assert.Equal(records.Reverse().Take(2), await log.ReadLatestAsync("gpt-4", 2));
        Assert.True(await log.ContainsAsync("gpt-4", records[1].RequestId));
        Assert.False(await log.ContainsAsync("gpt-4", Guid.NewGuid().ToString("D")));
    }

    [Fact]
    public async Task Old_records_go_only_once_a_checkpoint_holds_them_and_their_request_ids_go_with_them()
    {
        var log = Log();
        var first = Enumerable.Range(0, 500).Select(i => Records.Valid(seconds: 1 + i)).ToArray();
        await log.AppendAsync("gpt-4", first);
        _time.Advance(TimeSpan.FromMinutes(61));
        var second = Enumerable.Range(0, 10).Select(_ => Records.Valid(seconds: 2)).ToArray();
        await log.AppendAsync("gpt-4", second);
        // Past the retention but in no checkpoint: kept for replay, not shown.
        Assert.Equal(510, log.CountOf("gpt-4"));
        Assert.Equal(second.Reverse(), await log.ReadLatestAsync("gpt-4", 1_000));

        await log.MarkCheckpointAsync("gpt-4", 500);
        Assert.Equal(10, log.CountOf("gpt-4"));
        Assert.Equal(second, (await log.ReadAfterAsync("gpt-4", 0, 100)).Select(e => e.Record));
        // Their request ids went with them; the newer ones still count once.
        Assert.Equal(511, (await log.AppendAsync("gpt-4", [first[0], second[0]]))[0]);
        Assert.Equal(0, (await log.AppendAsync("gpt-4", [second[1]]))[0]);
    }

    [Fact]
    public async Task An_idle_models_records_go_once_past_the_retention_without_another_append()
    {
        using var log = Log();
        await log.AppendAsync("gpt-4", Enumerable.Range(0, 300).Select(_ => Records.Valid()).ToArray());
        await log.MarkCheckpointAsync("gpt-4", 300);
        Assert.Equal(300, log.CountOf("gpt-4"));

        // The sweep runs every sixtieth of the retention (1 min here).
        _time.Advance(TimeSpan.FromMinutes(62));
        Assert.Equal(0, log.CountOf("gpt-4"));
        // Positions carry on from where they were.
        Assert.Equal(301, (await log.AppendAsync("gpt-4", [Records.Valid()]))[0]);
    }

    [Fact]
    public async Task Over_the_cap_the_oldest_checkpointed_records_go_first_and_none_that_no_checkpoint_holds()
    {
        var log = Log(cap: 1_000);
        var records = Enumerable.Range(0, 5_000).Select(i => Records.Valid(seconds: 1 + i % 7)).ToArray();
        foreach (var chunk in records.Chunk(100)) await log.AppendAsync("gpt-4", chunk);
        Assert.Equal(5_000, log.CountOf("gpt-4"));

        await log.MarkCheckpointAsync("gpt-4", 600);
        Assert.InRange(log.CountOf("gpt-4"), 4_400, 4_999);
        Assert.Equal(5_000, (await log.ReadAfterAsync("gpt-4", 600, 10_000)).Count + 600);

        await log.MarkCheckpointAsync("gpt-4", 5_000);
        // Whole segments go, oldest first, until the cap holds: the newest records stay.
        var left = log.CountOf("gpt-4");
        Assert.InRange(left, 700, 1_000);
        Assert.Equal(records[^(int)left..], (await log.ReadAfterAsync("gpt-4", 0, 10_000)).Select(e => e.Record));
    }
}
