using Microsoft.Extensions.Options;

namespace Kyros.Perf.Stats;

/// <summary>
/// The recent-record log for the embedded single-silo mode (no Redis): same contract, kept in this process,
/// so it survives grain deactivation but not the process.
/// </summary>
public sealed class InMemoryRecentRecordLog(IOptions<RecentRecordLogOptions> options, TimeProvider time) : IRecentRecordLog
{
    private readonly TimeSpan _retention = options.Value.Retention;
    private readonly Dictionary<string, ModelLog> _logs = new(StringComparer.Ordinal);

    public ValueTask<long[]> AppendAsync(string model, IReadOnlyList<ModelPerformanceRecord> records)
    {
        var log = Get(model);
        var now = time.GetUtcNow();
        lock (log)
        {
            var positions = new long[records.Count];
            for (var i = 0; i < records.Count; i++)
            {
                if (log.Ids.ContainsKey(records[i].RequestId)) continue;
                var position = ++log.LastPosition;
                log.Ids[records[i].RequestId] = position;
                log.Entries.Add(new Entry(position, now, records[i]));
                positions[i] = position;
            }
            Trim(log, now);
            return ValueTask.FromResult(positions);
        }
    }

    public Task<bool> ContainsAsync(string model, string requestId)
    {
        var log = Get(model);
        lock (log) return Task.FromResult(log.Ids.ContainsKey(requestId));
    }

    public Task<IReadOnlyList<LoggedRecord>> ReadAfterAsync(string model, long afterPosition, int max)
    {
        var log = Get(model);
        lock (log)
        {
            var start = log.Entries.FindIndex(e => e.Position > afterPosition);
            IReadOnlyList<LoggedRecord> result = start < 0 ? []
                : log.Entries.Skip(start).Take(max).Select(e => new LoggedRecord(e.Position, e.Record)).ToArray();
            return Task.FromResult(result);
        }
    }

    public Task<IReadOnlyList<ModelPerformanceRecord>> ReadLatestAsync(string model, int limit)
    {
        var log = Get(model);
        lock (log)
        {
            var oldest = time.GetUtcNow() - _retention;
            IReadOnlyList<ModelPerformanceRecord> result = log.Entries.AsEnumerable().Reverse()
                .TakeWhile(e => e.AppendedAt >= oldest).Take(limit).Select(e => e.Record).ToArray();
            return Task.FromResult(result);
        }
    }

    public Task MarkCheckpointAsync(string model, long position)
    {
        var log = Get(model);
        lock (log)
        {
            log.Checkpoint = Math.Max(log.Checkpoint, position);
            Trim(log, time.GetUtcNow());
        }
        return Task.CompletedTask;
    }

    public Task<bool> IsHealthyAsync() => Task.FromResult(true);

    private ModelLog Get(string model)
    {
        lock (_logs)
        {
            if (!_logs.TryGetValue(model, out var log)) _logs[model] = log = new ModelLog();
            return log;
        }
    }

    /// <summary>Drops records past the retention, but never one that no checkpoint holds yet.</summary>
    private void Trim(ModelLog log, DateTimeOffset now)
    {
        var cutoff = now - _retention;
        var remove = 0;
        while (remove < log.Entries.Count && log.Entries[remove].AppendedAt < cutoff && log.Entries[remove].Position <= log.Checkpoint)
        {
            log.Ids.Remove(log.Entries[remove].Record.RequestId);
            remove++;
        }
        if (remove > 0) log.Entries.RemoveRange(0, remove);
    }

    private sealed record Entry(long Position, DateTimeOffset AppendedAt, ModelPerformanceRecord Record);

    private sealed class ModelLog
    {
        public readonly List<Entry> Entries = [];
        public readonly Dictionary<string, long> Ids = new(StringComparer.Ordinal);
        public long LastPosition;
        public long Checkpoint;
    }
}
