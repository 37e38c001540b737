using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Tests.Stats;

public sealed class RedisRecentRecordLogTests(RedisServer redis) : IAsyncLifetime
{
    private ConnectionMultiplexer _connection = null!;
    private RedisRecentRecordLog _log = null!;

    public async ValueTask InitializeAsync()
    {
        _connection = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _log = new RedisRecentRecordLog(_connection, Options.Create(new RecentRecordLogOptions { KeyPrefix = $"t{Guid.NewGuid():N}" }));
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();

    [Fact]
    public async Task Appends_get_rising_positions_and_repeated_request_ids_get_none()
    {
        var a = Records.Valid();
        var b = Records.Valid();
        var first = await _log.AppendAsync("gpt-4", [a, b, a]);
        Assert.True(first[0] > 0 && first[1] > first[0]);
        Assert.Equal(0, first[2]);

        var c = Records.Valid();
        var second = await _log.AppendAsync("gpt-4", [b, c]);
        Assert.Equal(0, second[0]);
        Assert.True(second[1] > first[1]);

        // Another model has its own request ids.
        Assert.True((await _log.AppendAsync("claude", [a with { Model = "claude" }]))[0] > 0);
    }

    [Fact]
    public async Task Once_the_store_lost_a_models_log_a_writer_holding_state_is_refused_until_it_writes_back_and_then_appends_above_its_checkpoint()
    {
        var first = await _log.AppendAsync("gpt-4", [Records.Valid()], new WriterEpoch("e1", HoldsNothing: true));
        var second = await _log.AppendAsync("gpt-4", [Records.Valid()], new WriterEpoch("e1", HoldsNothing: false));
        Assert.True(second[0] > first[0]);

        // Redis loses the model's keys; the writer still holds its records.
        await _log.DeleteAsync("gpt-4");
        var record = Records.Valid();
        await Assert.ThrowsAsync<LogEpochException>(() => _log.AppendAsync("gpt-4", [record], new WriterEpoch("e1", HoldsNothing: false)).AsTask());
        Assert.False(await _log.ContainsAsync("gpt-4", record.RequestId));

        // Written back under a new epoch, with a checkpoint whose position is ahead of Redis's clock: a writer of the old
        // epoch is still refused, and the new one's records get positions above the checkpoint, so a replay reads them.
        var checkpointed = RedisRecentRecordLog.ToPosition($"{DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds()}-7");
        await _log.MarkWrittenBackAsync("gpt-4", "e2", checkpointed);
        await Assert.ThrowsAsync<LogEpochException>(() => _log.AppendAsync("gpt-4", [record], new WriterEpoch("e1", HoldsNothing: true)).AsTask());
        var after = await _log.AppendAsync("gpt-4", [record], new WriterEpoch("e2", HoldsNothing: false));
        Assert.True(after[0] > checkpointed);
        Assert.Equal([record], (await _log.ReadAfterAsync("gpt-4", checkpointed, 10)).Select(e => e.Record));
    }

    [Fact]
    public async Task A_log_written_before_epochs_takes_the_first_writers_epoch()
    {
        await _log.AppendAsync("gpt-4", [Records.Valid()]);
        Assert.True((await _log.AppendAsync("gpt-4", [Records.Valid()], new WriterEpoch("e1", HoldsNothing: false)))[0] > 0);
        await Assert.ThrowsAsync<LogEpochException>(() => _log.AppendAsync("gpt-4", [Records.Valid()], new WriterEpoch("e0", HoldsNothing: false)).AsTask());
    }

    [Fact]
    public async Task Reading_after_a_position_returns_exactly_the_later_records_in_order()
    {
        var records = Enumerable.Range(0, 25).Select(i => Records.Valid(seconds: i + 1)).ToArray();
        var positions = await _log.AppendAsync("gpt-4", records);

        var after = await _log.ReadAfterAsync("gpt-4", positions[9], 100);
        Assert.Equal(records.Skip(10), after.Select(e => e.Record));
        Assert.Equal(positions.Skip(10), after.Select(e => e.Position));
        Assert.Equal(5, (await _log.ReadAfterAsync("gpt-4", 0, 5)).Count);

        var latest = await _log.ReadLatestAsync("gpt-4", 3);
        Assert.Equal(records.Reverse().Take(3), latest);
    }

    [Fact]
    public async Task Old_records_go_only_once_a_checkpoint_holds_them_and_their_request_ids_go_with_them()
    {
        var log = new RedisRecentRecordLog(_connection, Options.Create(new RecentRecordLogOptions
        {
            KeyPrefix = $"t{Guid.NewGuid():N}",
            Retention = TimeSpan.FromMilliseconds(1),
        }));
        var a = Records.Valid();
        var b = Records.Valid();
        var first = await log.AppendAsync("gpt-4", [a]);
        await log.MarkCheckpointAsync("gpt-4", first[0]);
        await Task.Delay(5); // past the 1 ms retention, on Redis's own clock
        var second = await log.AppendAsync("gpt-4", [b]);

        // a was old and checkpointed: gone, and its request id may be recorded again. b is old too, but no checkpoint holds it.
        var left = await log.ReadAfterAsync("gpt-4", 0, 10);
        Assert.Equal([b], left.Select(e => e.Record));
        await Task.Delay(5);
        var third = await log.AppendAsync("gpt-4", [a, b]);
        Assert.True(third[0] > second[0]);
        Assert.Equal(0, third[1]);
        Assert.Equal([b, a], (await log.ReadAfterAsync("gpt-4", 0, 10)).Select(e => e.Record));
    }

    [Fact]
    public async Task Over_the_cap_the_oldest_checkpointed_records_go_first_and_none_that_no_checkpoint_holds()
    {
        var log = new RedisRecentRecordLog(_connection, Options.Create(new RecentRecordLogOptions { KeyPrefix = $"t{Guid.NewGuid():N}", MaxRecordsPerModel = 10 }));
        var records = Enumerable.Range(0, 30).Select(i => Records.Valid(seconds: i + 1)).ToArray();
        var positions = await log.AppendAsync("gpt-4", records);
        Assert.Equal(30, (await log.ReadAfterAsync("gpt-4", 0, 100)).Count);

        // A checkpoint holds the first 20: they go, oldest first, down to the cap or to the checkpoint, whichever comes first.
        await log.MarkCheckpointAsync("gpt-4", positions[19]);
        Assert.Equal(records[20..], (await log.ReadAfterAsync("gpt-4", 0, 100)).Select(e => e.Record));
        Assert.True((await log.AppendAsync("gpt-4", [records[0]]))[0] > positions[29]);
        Assert.Equal(0, (await log.AppendAsync("gpt-4", [records[25]]))[0]);
    }

    [Fact]
    public async Task Records_come_back_exactly_and_entries_written_as_json_before_still_read()
    {
        var prefix = $"t{Guid.NewGuid():N}";
        var log = new RedisRecentRecordLog(_connection, Options.Create(new RecentRecordLogOptions { KeyPrefix = prefix }));
        var old = Records.Valid(seconds: 0.25) with { ErrorKind = "timeout", Success = false, QualityScore = null };
        // An entry as versions before packed records wrote it: the request id and the record as JSON.
        await _connection.GetDatabase().StreamAddAsync($"{prefix}:records:{{gpt-4}}:log",
            [new NameValueEntry("i", old.RequestId), new NameValueEntry("r", System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(old, Kyros.Perf.Common.KyrosJson.Options))]);
        ModelPerformanceRecord[] records =
        [
            Records.Valid(seconds: 0.123456789, at: DateTimeOffset.UtcNow.AddTicks(-7)) with { Instance = "east", ErrorKind = "rate_limit", Success = false },
            Records.Valid() with { Instance = null, TimeToFirstToken = null, QualityScore = null, IsFeedback = true, RequestId = "x#feedback" },
        ];
        await log.AppendAsync("gpt-4", records);

        Assert.Equal([old, .. records], (await log.ReadAfterAsync("gpt-4", 0, 10)).Select(e => e.Record));
        Assert.Equal(records.Reverse(), (await log.ReadLatestAsync("gpt-4", 2)));
    }

    [Fact]
    public void Positions_and_stream_ids_convert_both_ways()
    {
        Assert.Equal("1764331200000-7", RedisRecentRecordLog.ToEntryId(RedisRecentRecordLog.ToPosition("1764331200000-7")));
        Assert.True(RedisRecentRecordLog.ToPosition("1764331200001-0") > RedisRecentRecordLog.ToPosition("1764331200000-99999"));
    }
}
