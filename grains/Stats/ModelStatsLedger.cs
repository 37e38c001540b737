using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Stats;

/// <summary>
/// A model's live statistics: per minute of record time, one aggregate per instance (deployment), kept for
/// <see cref="LiveRetention"/>; the position of the last record applied; the minutes history has not yet received.
/// A model's figures are the exact merge of its instances'.
/// </summary>
public sealed class ModelStatsLedger
{
    /// <summary>
    /// A day of windows, plus the hour that holds the oldest minute (so hour roll-ups are whole), plus the longest
    /// checkpoint interval (a minute changed just before pruning is still whole when it is flushed), plus slack.
    /// </summary>
    public static readonly TimeSpan LiveRetention = TimeWindow.Max + TimeSpan.FromMinutes(60 + 10 + 5);

    /// <summary>The key of records that name no instance.</summary>
    private const string NoInstance = "";
    private const byte SnapshotVersion = 2;
    private static readonly TimeSpan RoutingWindow = TimeSpan.FromMinutes(5);
    private readonly Dictionary<long, Dictionary<string, MetricsAggregate>> _minutes = [];
    private readonly HashSet<long> _unflushed = [];
    private readonly HashSet<string> _instances = new(StringComparer.Ordinal);
    private long _lastMinute;
    private string? _lastInstance;
    private MetricsAggregate? _lastAggregate;

    public long AppliedPosition { get; private set; }

    /// <summary>Failures since the last success, in the order records were applied (not kept in snapshots).</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>Successes applied by this ledger: it only rises, so a change means a success happened.</summary>
    public long SuccessesApplied { get; private set; }
    public int MinuteCount => _minutes.Count;
    public long RecordCount => _minutes.Values.Sum(m => m.Values.Sum(a => a.Count));
    public bool HasUnflushed => _unflushed.Count > 0;

    /// <summary>The instances seen in the live window.</summary>
    public IReadOnlyCollection<string> Instances => _instances;

    public bool KnowsInstance(string instance) => _instances.Contains(instance);

    /// <summary>
    /// Refuses records that would take the model past <paramref name="limit"/> distinct instances, naming the first
    /// such record; otherwise counts their new instances at once, before their records are applied, so callers
    /// that interleave while a write is in flight cannot pass the limit together.
    /// </summary>
    public void ReserveInstances(IReadOnlyList<ModelPerformanceRecord> records, int limit, bool single)
    {
        HashSet<string>? added = null;
        for (var i = 0; i < records.Count; i++)
        {
            var instance = records[i].Instance;
            if (instance is null || _instances.Contains(instance) || !(added ??= new(StringComparer.Ordinal)).Add(instance)) continue;
            if (_instances.Count + added.Count > limit)
                throw new ArgumentException($"instance '{instance}' would be model '{records[i].Model}''s {limit + 1}th distinct instance; the limit is {limit} (Kyros:ModelStats:MaxInstancesPerModel).",
                    single ? "instance" : $"[{i}].instance");
        }
        if (added is not null) _instances.UnionWith(added);
    }

    /// <summary>
    /// Takes a minute rebuilt from history (all instances merged) after the live state was lost.
    /// History already holds it, so it is not flushed again unless a new record changes it.
    /// </summary>
    public void Seed(DateTimeOffset minuteStart, MetricsAggregate aggregate)
    {
        var minute = MinuteOf(minuteStart);
        if (_minutes.ContainsKey(minute) || aggregate.Count == 0) return;
        _minutes[minute] = new Dictionary<string, MetricsAggregate>(StringComparer.Ordinal) { [NoInstance] = aggregate };
        _lastAggregate = null;
    }

    public void Apply(ModelPerformanceRecord record, long position)
    {
        var minute = MinuteOf(record.Timestamp);
        var instance = record.Instance ?? NoInstance;
        // Records arrive mostly in time order from few instances: the last bucket touched is the likely one again.
        if (minute != _lastMinute || _lastAggregate is null || !string.Equals(instance, _lastInstance, StringComparison.Ordinal))
        {
            if (!_minutes.TryGetValue(minute, out var byInstance)) _minutes[minute] = byInstance = new(StringComparer.Ordinal);
            if (!byInstance.TryGetValue(instance, out var found)) byInstance[instance] = found = new MetricsAggregate();
            if (record.Instance is not null) _instances.Add(record.Instance);
            _unflushed.Add(minute);
            (_lastMinute, _lastInstance, _lastAggregate) = (minute, instance, found);
        }
        _lastAggregate.Add(record);
        if (record.IsFeedback)
        {
            // Quality only: a late score says nothing about failures or successes.
        }
        else if (record.Success)
        {
            ConsecutiveFailures = 0;
            SuccessesApplied++;
        }
        else ConsecutiveFailures++;
        if (position > AppliedPosition) AppliedPosition = position;
    }

    /// <summary>
    /// The merge of the minutes from the window's start on (minutes ahead of the clock included),
    /// of every instance or of one.
    /// </summary>
    public MetricsAggregate Window(DateTimeOffset now, TimeSpan window, string? instance = null)
    {
        var first = MinuteOf(TimeWindow.StartAt(now, window));
        var result = new MetricsAggregate();
        foreach (var (minute, byInstance) in _minutes)
        {
            if (minute < first) continue;
            if (instance is null)
                foreach (var aggregate in byInstance.Values) result.Merge(aggregate);
            else if (byInstance.TryGetValue(instance, out var aggregate))
                result.Merge(aggregate);
        }
        return result;
    }

    /// <summary>Each minute of the window that holds records, every instance merged, oldest first.</summary>
    public IReadOnlyList<ModelMinute> Minutes(DateTimeOffset now, TimeSpan window)
    {
        var first = MinuteOf(TimeWindow.StartAt(now, window));
        var minutes = new List<ModelMinute>();
        foreach (var (minute, byInstance) in _minutes.Where(m => m.Key >= first).OrderBy(m => m.Key))
        {
            // One instance (the usual case) is read as it is: merging would copy its sketches for nothing.
            MetricsAggregate a;
            if (byInstance.Count == 1) a = byInstance.Values.First();
            else
            {
                a = new MetricsAggregate();
                foreach (var aggregate in byInstance.Values) a.Merge(aggregate);
            }
            if (a.Count == 0) continue;
            minutes.Add(new ModelMinute(StartOf(minute), a.Count, a.Successes, a.ErrorsByKind.GetValueOrDefault("timeout"),
                a.Latency.Quantile(0.5), a.Latency.Quantile(0.99), a.QualitySum, a.QualityCount, a.CostTotal));
        }
        return minutes;
    }

    /// <summary>What the routers need of this model: its last 5 minutes, and its failures since the last success.</summary>
    public ModelRoutingStats RoutingStats(string model, DateTimeOffset now)
    {
        var w = Window(now, RoutingWindow);
        return new ModelRoutingStats(model, w.Count, w.Latency.Quantile(0.95), w.TimeToFirstToken.Quantile(0.95),
            w.Count == 0 ? 0 : 1 - (double)w.Successes / w.Count, w.Count == 0 ? null : w.CostTotal / w.Count,
            w.QualityCount == 0 ? null : w.QualitySum / w.QualityCount, w.QualityCount,
            ConsecutiveFailures, SuccessesApplied, now, w.TimeToFirstToken.Count);
    }

    /// <summary>Drops minutes past the live retention and compacts the closed ones (memory; their answers do not change).</summary>
    public void Prune(DateTimeOffset now)
    {
        var closed = MinuteOf(now) - 1;
        foreach (var (minute, byInstance) in _minutes)
            if (minute < closed)
                foreach (var aggregate in byInstance.Values) aggregate.Compact();
        var oldest = MinuteOf(now - LiveRetention);
        var stale = _minutes.Keys.Where(m => m < oldest).ToArray();
        if (stale.Length == 0) return;
        foreach (var minute in stale)
        {
            _minutes.Remove(minute);
            _unflushed.Remove(minute);
        }
        _instances.Clear();
        foreach (var byInstance in _minutes.Values)
            foreach (var instance in byInstance.Keys)
                if (instance != NoInstance) _instances.Add(instance);
        _lastAggregate = null;
    }

    /// <summary>
    /// Roll-ups (all instances merged) for every minute changed since the last call, and for the hours that hold them.
    /// The minutes count as flushed; <see cref="Unflush"/> puts them back when the write fails.
    /// </summary>
    public (IReadOnlyList<HistoryRow> Rows, long[] Minutes) TakeUnflushed(string model)
    {
        var minutes = _unflushed.ToArray();
        _unflushed.Clear();
        _lastAggregate = null;
        var rows = new List<HistoryRow>(minutes.Length + 2);
        foreach (var minute in minutes)
            rows.Add(new HistoryRow(model, HistoryResolution.Minute, StartOf(minute), MergeMinute(minute, new MetricsAggregate())));
        foreach (var hour in minutes.Select(m => m - m % 60).Distinct())
        {
            var aggregate = new MetricsAggregate();
            for (var m = hour; m < hour + 60; m++) MergeMinute(m, aggregate);
            rows.Add(new HistoryRow(model, HistoryResolution.Hour, StartOf(hour), aggregate));
        }
        return (rows, minutes);
    }

    public void Unflush(IEnumerable<long> minutes)
    {
        foreach (var minute in minutes)
            if (_minutes.ContainsKey(minute)) _unflushed.Add(minute);
    }

    public byte[] ToSnapshot()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(SnapshotVersion);
            writer.Write(AppliedPosition);
            writer.Write7BitEncodedInt(_minutes.Count);
            foreach (var (minute, byInstance) in _minutes)
            {
                writer.Write(minute);
                writer.Write7BitEncodedInt(byInstance.Count);
                foreach (var (instance, aggregate) in byInstance)
                {
                    writer.Write(instance);
                    aggregate.WriteTo(writer);
                }
            }
            writer.Write7BitEncodedInt(_unflushed.Count);
            foreach (var minute in _unflushed) writer.Write(minute);
        }
        return stream.ToArray();
    }

    public static ModelStatsLedger FromSnapshot(byte[]? snapshot)
    {
        var ledger = new ModelStatsLedger();
        if (snapshot is null || snapshot.Length == 0) return ledger;
        using var reader = new BinaryReader(new MemoryStream(snapshot));
        var version = reader.ReadByte();
        if (version != SnapshotVersion) throw new InvalidDataException($"Unknown model statistics snapshot version {version}.");
        ledger.AppliedPosition = reader.ReadInt64();
        var minutes = reader.Read7BitEncodedInt();
        for (var i = 0; i < minutes; i++)
        {
            var minute = reader.ReadInt64();
            var count = reader.Read7BitEncodedInt();
            var byInstance = new Dictionary<string, MetricsAggregate>(count, StringComparer.Ordinal);
            for (var j = 0; j < count; j++)
            {
                var instance = reader.ReadString();
                byInstance[instance] = MetricsAggregate.ReadFrom(reader);
                if (instance != NoInstance) ledger._instances.Add(instance);
            }
            ledger._minutes[minute] = byInstance;
        }
        var unflushed = reader.Read7BitEncodedInt();
        for (var i = 0; i < unflushed; i++) ledger._unflushed.Add(reader.ReadInt64());
        return ledger;
    }

    public static long MinuteOf(DateTimeOffset time) => Math.DivRem(time.ToUnixTimeSeconds(), 60, out var r) - (r < 0 ? 1 : 0);

    public static DateTimeOffset StartOf(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);

    private MetricsAggregate MergeMinute(long minute, MetricsAggregate into)
    {
        if (_minutes.TryGetValue(minute, out var byInstance))
            foreach (var aggregate in byInstance.Values) into.Merge(aggregate);
        return into;
    }
}
