using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Stats;

/// <summary>
/// The recent-record log in Redis: per model a stream of records (the entry id is the position), a hash of
/// the request ids it holds (the dedupe index) and the last checkpointed entry id. An entry holds the request id and the
/// rest of the record packed (<see cref="CompactRecordCodec"/>), about a quarter of its JSON. One script call appends a
/// whole group atomically, so concurrent callers share one round trip; with <see cref="ReplicaAcks"/> it returns once
/// the replicas asked for hold it.
/// </summary>
public sealed class RedisRecentRecordLog(IConnectionMultiplexer redis, IOptions<RecentRecordLogOptions> options, ReplicaAcks? replicaAcks = null)
    : IRecentRecordLog
{
    // Deletes entries older than the retention that a checkpoint already holds, with their request ids; then, while the
    // model holds more than the cap, the oldest that a checkpoint holds. Nothing here expires by TTL: an entry that no
    // checkpoint holds stays until one does, so it can be replayed.
    // KEYS: stream, ids hash, checkpoint. ARGV[1]: "retention ms,cap".
    private const string TrimLua = """
        local t = redis.call('TIME')
        local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local retention, cap = string.match(ARGV[1], '^(%d+),(%d+)$')
        local ck = redis.call('GET', KEYS[3])
        if ck then
          local ckMs = tonumber(string.match(ck, '^(%d+)'))
          local cutoff = nowMs - tonumber(retention)
          local last = '(' .. cutoff .. '-0'
          if cutoff > ckMs then last = ck end
          local old = redis.call('XRANGE', KEYS[1], '-', last, 'COUNT', 5000 + #ARGV)
          for _, e in ipairs(old) do
            redis.call('HDEL', KEYS[2], e[2][2])
            redis.call('XDEL', KEYS[1], e[1])
          end
          local over = redis.call('XLEN', KEYS[1]) - tonumber(cap)
          if over > 0 then
            local oldest = redis.call('XRANGE', KEYS[1], '-', ck, 'COUNT', math.min(over, 5000 + #ARGV))
            for _, e in ipairs(oldest) do
              redis.call('HDEL', KEYS[2], e[2][2])
              redis.call('XDEL', KEYS[1], e[1])
            end
          end
        end
        """;

    // KEYS[4]: the model's epoch marker. ARGV[2]: the writer's epoch, or '' for no check; ARGV[3]: '1' when the writer
    // holds nothing from the store. A marker that is gone while the writer holds state means Redis lost the model's data:
    // refuse, writing nothing. A log from before markers existed (its keys present, no marker) takes the writer's.
    // ARGV[4..]: request id and packed record pairs. Returns each record's entry id, or '' for a request id already held.
    private const string AppendScript = """
        if ARGV[2] ~= '' then
          local marker = redis.call('GET', KEYS[4])
          if marker ~= ARGV[2] then
            if marker == false and (ARGV[3] == '1' or redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1) then
              redis.call('SET', KEYS[4], ARGV[2])
            else
              return redis.error_reply('KYROS_EPOCH ' .. (marker or 'gone'))
            end
          end
        end
        local out = {}
        for i = 4, #ARGV, 2 do
          if redis.call('HSETNX', KEYS[2], ARGV[i], 1) == 1 then
            out[#out + 1] = redis.call('XADD', KEYS[1], '*', 'i', ARGV[i], 'r', ARGV[i + 1])
          else
            out[#out + 1] = ''
          end
        end

        """ + "\n" + TrimLua + "\n" + """
        return out
        """;

    // After a write-back: the marker takes the writer's epoch, and the stream's last id is raised to the checkpoint's
    // position (a new stream's ids could otherwise fall below it, and replay would skip them); the checkpoint mark moves.
    // ARGV[1]: epoch; ARGV[2]: the checkpoint's entry id.
    private const string WrittenBackScript = """
        redis.call('SET', KEYS[4], ARGV[1])
        if ARGV[2] ~= '0-0' then
          if redis.call('EXISTS', KEYS[1]) == 0 then
            redis.call('XADD', KEYS[1], ARGV[2], 'i', '', 'r', '')
            redis.call('XDEL', KEYS[1], ARGV[2])
          else
            local info = redis.call('XINFO', 'STREAM', KEYS[1])
            local last
            for i = 1, #info, 2 do if info[i] == 'last-generated-id' then last = info[i + 1] end end
            local lms, lseq = string.match(last, '^(%d+)-(%d+)$')
            local ms, seq = string.match(ARGV[2], '^(%d+)-(%d+)$')
            if tonumber(ms) > tonumber(lms) or (tonumber(ms) == tonumber(lms) and tonumber(seq) > tonumber(lseq)) then
              redis.call('XSETID', KEYS[1], ARGV[2])
            end
          end
          redis.call('SET', KEYS[3], ARGV[2])
        end
        """;

    // ARGV[2]: the checkpointed entry id; it only ever moves forward.
    private const string CheckpointScript = """
        local current = redis.call('GET', KEYS[3])
        local function parts(id) local ms, seq = string.match(id, '^(%d+)-(%d+)$') return tonumber(ms), tonumber(seq) end
        local newMs, newSeq = parts(ARGV[2])
        local move = true
        if current then
          local ms, seq = parts(current)
          move = newMs > ms or (newMs == ms and newSeq > seq)
        end
        if move then redis.call('SET', KEYS[3], ARGV[2]) end
        """ + "\n" + TrimLua;

    private readonly RecentRecordLogOptions _options = options.Value;
    private readonly ReplicaAcks _replicaAcks = replicaAcks ?? ReplicaAcks.None;
    private IDatabase Db => redis.GetDatabase();

    public async ValueTask<long[]> AppendAsync(string model, IReadOnlyList<ModelPerformanceRecord> records, WriterEpoch? writer = null)
    {
        var args = new RedisValue[3 + records.Count * 2];
        args[0] = RetentionMs;
        args[1] = writer?.Epoch ?? "";
        args[2] = writer is { HoldsNothing: true } ? "1" : "0";
        var codec = new CompactRecordCodec(model, numberNames: false);
        var body = new ArrayBufferWriter<byte>(128);
        for (var i = 0; i < records.Count; i++)
        {
            args[3 + i * 2] = records[i].RequestId;
            body.ResetWrittenCount();
            codec.WriteBody(body, records[i], appendedAtMs: 0);
            args[4 + i * 2] = body.WrittenSpan.ToArray();
        }
        RedisResult[] result;
        try
        {
            result = (RedisResult[])(await Db.ScriptEvaluateAsync(AppendScript, Keys(model), args))!;
        }
        catch (RedisServerException exception) when (exception.Message.StartsWith("KYROS_EPOCH ", StringComparison.Ordinal))
        {
            throw new LogEpochException(model, exception.Message["KYROS_EPOCH ".Length..]);
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
        await _replicaAcks.WaitAsync(Db);
        var positions = new long[records.Count];
        for (var i = 0; i < positions.Length; i++)
        {
            var id = (string?)result[i];
            positions[i] = string.IsNullOrEmpty(id) ? 0 : ToPosition(id);
        }
        return positions;
    }

    public async Task<IReadOnlyList<LoggedRecord>> ReadAfterAsync(string model, long afterPosition, int max)
    {
        // Exclusive start: the entry id just after the position.
        var entries = await Guard(Db.StreamRangeAsync(Key(model, "log"), ToEntryId(afterPosition + 1), "+", max));
        var codec = new CompactRecordCodec(model, numberNames: false);
        return entries.Select(e => new LoggedRecord(ToPosition(e.Id!), Parse(codec, model, e))).ToArray();
    }

    public async Task<IReadOnlyList<ModelPerformanceRecord>> ReadLatestAsync(string model, int limit)
    {
        // Entries past the retention that no checkpoint holds yet are kept for replay, not shown.
        var oldest = DateTimeOffset.UtcNow - _options.Retention;
        var entries = await Guard(Db.StreamRangeAsync(Key(model, "log"), $"{oldest.ToUnixTimeMilliseconds()}-0", "+", limit, Order.Descending));
        var codec = new CompactRecordCodec(model, numberNames: false);
        return entries.Select(e => Parse(codec, model, e)).ToArray();
    }

    public async Task MarkWrittenBackAsync(string model, string epoch, long position)
    {
        await Guard(Db.ScriptEvaluateAsync(WrittenBackScript, Keys(model), [epoch, ToEntryId(position)]));
        // The log takes records again once this is on the replicas too.
        await _replicaAcks.WaitAsync(Db);
    }

    public Task MarkCheckpointAsync(string model, long position) =>
        position == 0 ? Task.CompletedTask
            : Guard(Db.ScriptEvaluateAsync(CheckpointScript, Keys(model), [RetentionMs, ToEntryId(position)]));

    public async Task<bool> IsHealthyAsync()
    {
        try
        {
            await Db.PingAsync();
            return true;
        }
        catch (RedisException)
        {
            return false;
        }
    }

    /// <summary>
    /// Redis's own exceptions cannot cross to an Orleans client; their message can. Whatever a Redis call throws is the
    /// store failing: a timeout, a cancelled or torn-down connection (the client's socket layer throws its own types).
    /// </summary>
    private static async Task<T> Guard<T>(Task<T> call)
    {
        try
        {
            return await call;
        }
        catch (Exception exception)
        {
            throw Unavailable(exception);
        }
    }

    private static KyrosUnavailableException Unavailable(Exception exception) => new($"The recent-record log (Redis) failed: {exception.Message}");

    // A stream entry id "ms-seq" as one rising number: ms in the high bits, seq in the low 20.
    internal static long ToPosition(string entryId)
    {
        var dash = entryId.IndexOf('-');
        var ms = long.Parse(entryId.AsSpan(0, dash), CultureInfo.InvariantCulture);
        var seq = long.Parse(entryId.AsSpan(dash + 1), CultureInfo.InvariantCulture);
        return (ms << 20) | seq;
    }

    internal static string ToEntryId(long position) => $"{position >> 20}-{position & 0xFFFFF}";

    /// <summary>
    /// An entry's record: its request id from field <c>i</c>, the rest packed in <c>r</c> (names in full, the timestamp
    /// absolute), or JSON in entries written before records were packed (a packed record never starts with '{').
    /// </summary>
    private static ModelPerformanceRecord Parse(CompactRecordCodec codec, string model, StreamEntry entry)
    {
        var bytes = (byte[])entry["r"]!;
        if (bytes.Length > 0 && bytes[0] == (byte)'{') return JsonSerializer.Deserialize<ModelPerformanceRecord>(bytes, KyrosJson.Options)!;
        var reader = new SpanReader(bytes);
        return codec.ReadBody(ref reader, model, (string)entry["i"]!, appendedAtMs: 0);
    }

    private string RetentionMs => string.Create(CultureInfo.InvariantCulture, $"{(long)_options.Retention.TotalMilliseconds},{_options.MaxRecordsPerModel}");

    public Task<bool> ContainsAsync(string model, string requestId) => Guard(Db.HashExistsAsync(Key(model, "ids"), requestId));

    public Task DeleteAsync(string model) => Guard(Db.KeyDeleteAsync(Keys(model)));

    private RedisKey[] Keys(string model) => [Key(model, "log"), Key(model, "ids"), Key(model, "ckpt"), Key(model, "epoch")];

    // The hash tag keeps one model's keys on one shard of a Redis cluster.
    private RedisKey Key(string model, string part) => $"{_options.KeyPrefix}:records:{{{model}}}:{part}";
}
