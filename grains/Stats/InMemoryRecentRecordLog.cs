using System.Buffers;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Stats;

/// <summary>
/// The recent-record log for the embedded single-silo mode (no Redis): same contract, kept in this process, so it survives
/// grain deactivation but not the process. Records are packed (<see cref="CompactRecordCodec"/>) into segments of about
/// 16 KiB, and the dedupe index holds a 64-bit hash per request id (seeded per process): about 100 bytes a record in all.
/// A segment is dropped whole once every record in it is past the retention, or while the model holds more than
/// <see cref="RecentRecordLogOptions.MaxRecordsPerModel"/>, oldest first; never while a record in it is in no checkpoint.
/// </summary>
public sealed class InMemoryRecentRecordLog : IRecentRecordLog, IDisposable
{
    private const int SegmentBytes = 16 * 1024;
    private static readonly long HashSeed = Random.Shared.NextInt64();
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_scratch;
    private readonly TimeProvider time;
    private readonly TimeSpan _retention;
    private readonly long _cap;
    private readonly Dictionary<string, ModelLog> _logs = new(StringComparer.Ordinal);
    private readonly ITimer _sweep;

    public InMemoryRecentRecordLog(IOptions<RecentRecordLogOptions> options, TimeProvider time)
    {
        this.time = time;
        _retention = options.Value.Retention;
        _cap = options.Value.MaxRecordsPerModel;
        // A model that goes idle appends nothing more, so nothing would trim its log: a sweep does, as often as segments begin.
        var period = _retention / 60;
        _sweep = time.CreateTimer(_ => Sweep(), null, period, period);
    }

    public void Dispose() => _sweep.Dispose();

    // This process is the store: it cannot lose the log and keep the writer, so an epoch never changes here.
    public ValueTask<long[]> AppendAsync(string model, IReadOnlyList<ModelPerformanceRecord> records, WriterEpoch? writer = null)
    {
        var log = Get(model);
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        var scratch = t_scratch ??= new ArrayBufferWriter<byte>(512);
        lock (log)
        {
            var positions = new long[records.Count];
            for (var i = 0; i < records.Count; i++)
            {
                var hash = CompactRecordCodec.Hash(records[i].RequestId, HashSeed);
                if (log.Ids.Contains(hash)) continue;
                var segment = log.Tail(nowMs, (long)_retention.TotalMilliseconds / 60);
                scratch.ResetWrittenCount();
                CompactRecordCodec.WriteVarint(scratch, (ulong)Math.Max(0, nowMs - segment.BaseMs));
                log.Codec.WriteRequestId(scratch, records[i].RequestId, nowMs);
                log.Codec.WriteBody(scratch, records[i], nowMs);
                segment.Append(scratch.WrittenSpan, nowMs);
                log.Ids.Add(hash);
                log.Count++;
                positions[i] = ++log.LastPosition;
                if (segment.Count == 1) segment.FirstPosition = positions[i];
            }
            Trim(log, nowMs);
            return ValueTask.FromResult(positions);
        }
    }

    public Task<bool> ContainsAsync(string model, string requestId)
    {
        var log = Get(model);
        var hash = CompactRecordCodec.Hash(requestId, HashSeed);
        lock (log) return Task.FromResult(log.Ids.Contains(hash));
    }

    public Task<IReadOnlyList<LoggedRecord>> ReadAfterAsync(string model, long afterPosition, int max)
    {
        var log = Get(model);
        var result = new List<LoggedRecord>();
        lock (log)
        {
            foreach (var segment in log.Segments)
            {
                if (segment.Count == 0 || segment.LastPosition <= afterPosition) continue;
                var position = segment.FirstPosition;
                foreach (var (record, _) in segment.Read(log.Codec, model))
                {
                    if (position > afterPosition) result.Add(new LoggedRecord(position, record));
                    position++;
                    if (result.Count == max) return Task.FromResult<IReadOnlyList<LoggedRecord>>(result);
                }
            }
        }
        return Task.FromResult<IReadOnlyList<LoggedRecord>>(result);
    }

    public Task<IReadOnlyList<ModelPerformanceRecord>> ReadLatestAsync(string model, int limit)
    {
        var log = Get(model);
        var oldestMs = (time.GetUtcNow() - _retention).ToUnixTimeMilliseconds();
        var result = new List<ModelPerformanceRecord>(Math.Min(limit, 1024));
        lock (log)
        {
            for (var s = log.Segments.Count - 1; s >= 0 && result.Count < limit; s--)
            {
                var segment = log.Segments[s];
                if (segment.LastAppendedMs < oldestMs) break;
                var records = segment.Read(log.Codec, model).ToList();
                for (var i = records.Count - 1; i >= 0 && result.Count < limit; i--)
                    if (records[i].AppendedAtMs >= oldestMs) result.Add(records[i].Record);
            }
        }
        return Task.FromResult<IReadOnlyList<ModelPerformanceRecord>>(result);
    }

    public Task MarkWrittenBackAsync(string model, string epoch, long position) => MarkCheckpointAsync(model, position);

    public Task MarkCheckpointAsync(string model, long position)
    {
        var log = Get(model);
        lock (log)
        {
            log.Checkpoint = Math.Max(log.Checkpoint, position);
            Trim(log, time.GetUtcNow().ToUnixTimeMilliseconds());
        }
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string model)
    {
        lock (_logs) _logs.Remove(model);
        return Task.CompletedTask;
    }

    public Task<bool> IsHealthyAsync() => Task.FromResult(true);

    /// <summary>Records held for the model (what the cap counts).</summary>
    public long CountOf(string model)
    {
        var log = Get(model);
        lock (log) return log.Count;
    }

    /// <summary>Trims every model's log; what a model keeps between sweeps is its position, so positions still rise when it is busy again.</summary>
    private void Sweep()
    {
        ModelLog[] logs;
        lock (_logs) logs = [.. _logs.Values];
        var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var log in logs)
            lock (log) Trim(log, nowMs);
    }

    private ModelLog Get(string model)
    {
        lock (_logs)
        {
            if (!_logs.TryGetValue(model, out var log)) _logs[model] = log = new ModelLog(model);
            return log;
        }
    }

    /// <summary>Drops whole segments, oldest first, that are past the retention or over the cap, and that a checkpoint holds entirely.</summary>
    private void Trim(ModelLog log, long nowMs)
    {
        var cutoffMs = nowMs - (long)_retention.TotalMilliseconds;
        while (log.Segments.Count > 0)
        {
            var segment = log.Segments[0];
            if (segment.Count > 0 && segment.LastPosition > log.Checkpoint) break;
            if (segment.LastAppendedMs >= cutoffMs && log.Count <= _cap) break;
            foreach (var requestId in segment.RequestIds(log.Codec))
                log.Ids.Remove(CompactRecordCodec.Hash(requestId, HashSeed));
            log.Count -= segment.Count;
            log.Segments.RemoveAt(0);
        }
    }

    private sealed class ModelLog(string model)
    {
        public readonly List<Segment> Segments = [];
        public readonly LongSet Ids = new();
        public readonly CompactRecordCodec Codec = new(model);
        public long LastPosition;
        public long Checkpoint;
        public long Count;

        /// <summary>The segment to append to: a new one when the last is full or spans a sixtieth of the retention, so segments age out about when their records do.</summary>
        public Segment Tail(long nowMs, long spanMs)
        {
            if (Segments.Count == 0 || Segments[^1].Length >= SegmentBytes || nowMs - Segments[^1].BaseMs > spanMs) Segments.Add(new Segment(nowMs));
            return Segments[^1];
        }
    }

    /// <summary>
    /// Records appended one after another, each as its length, the milliseconds since the segment began, its request id
    /// and the rest; positions run on from <see cref="FirstPosition"/>.
    /// </summary>
    private sealed class Segment(long baseMs)
    {
        private byte[] _data = new byte[256];

        public long BaseMs { get; } = baseMs;
        public int Length { get; private set; }
        public int Count { get; private set; }
        public long FirstPosition { get; set; }
        public long LastAppendedMs { get; private set; } = baseMs;
        public long LastPosition => FirstPosition + Count - 1;

        public void Append(ReadOnlySpan<byte> entry, long nowMs)
        {
            var needed = Length + 5 + entry.Length;
            if (needed > _data.Length) Array.Resize(ref _data, Math.Max(needed, Math.Min(_data.Length * 2, SegmentBytes + 1024)));
            var lengthBytes = CompactRecordCodec.WriteVarint(_data.AsSpan(Length), (ulong)entry.Length);
            entry.CopyTo(_data.AsSpan(Length + lengthBytes));
            Length += lengthBytes + entry.Length;
            Count++;
            LastAppendedMs = nowMs;
        }

        /// <summary>The request ids alone, each entry's rest skipped: what dropping the segment takes out of the dedupe index.</summary>
        public List<string> RequestIds(CompactRecordCodec codec)
        {
            var ids = new List<string>(Count);
            var reader = new SpanReader(_data.AsSpan(0, Length));
            while (reader.Position < Length)
            {
                var length = (int)reader.ReadVarint();
                var end = reader.Position + length;
                ids.Add(codec.ReadRequestId(ref reader, BaseMs + (long)reader.ReadVarint()));
                reader.Position = end;
            }
            return ids;
        }

        public IEnumerable<(ModelPerformanceRecord Record, long AppendedAtMs)> Read(CompactRecordCodec codec, string model)
        {
            var results = new List<(ModelPerformanceRecord, long)>(Count);
            var reader = new SpanReader(_data.AsSpan(0, Length));
            while (reader.Position < Length)
            {
                var length = (int)reader.ReadVarint();
                var end = reader.Position + length;
                var appendedAtMs = BaseMs + (long)reader.ReadVarint();
                var requestId = codec.ReadRequestId(ref reader, appendedAtMs);
                results.Add((codec.ReadBody(ref reader, model, requestId, appendedAtMs), appendedAtMs));
                reader.Position = end;
            }
            return results;
        }
    }
}
