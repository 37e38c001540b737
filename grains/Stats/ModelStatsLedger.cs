using Kyros.Perf.History;
using Kyros.Perf.Models;
using Kyros.Perf.Statistics;

namespace Kyros.Perf.Stats;

/// <summary>
/// A model's live statistics: one aggregate per minute of record time, kept for <see cref="LiveRetention"/>,
/// the position of the last record applied, and the minutes history has not yet received.
/// </summary>
public sealed class ModelStatsLedger
{
    /// <summary>A day of windows, plus the hour that holds the oldest minute (so hour roll-ups are whole), plus slack.</summary>
    public static readonly TimeSpan LiveRetention = TimeWindow.Max + TimeSpan.FromMinutes(65);

    private const byte SnapshotVersion = 1;
    private readonly Dictionary<long, MetricsAggregate> _minutes = [];
    private readonly HashSet<long> _unflushed = [];
    private long _lastMinute;
    private MetricsAggregate? _lastAggregate;

    public long AppliedPosition { get; private set; }
    public int MinuteCount => _minutes.Count;
    public long RecordCount => _minutes.Values.Sum(m => m.Count);
    public bool HasUnflushed => _unflushed.Count > 0;

    public void Apply(ModelPerformanceRecord record, long position)
    {
        var minute = MinuteOf(record.Timestamp);
        // Records arrive mostly in time order: the last minute touched is the likely one again.
        if (minute != _lastMinute || _lastAggregate is null)
        {
            if (!_minutes.TryGetValue(minute, out var found)) _minutes[minute] = found = new MetricsAggregate();
            _unflushed.Add(minute);
            (_lastMinute, _lastAggregate) = (minute, found);
        }
        _lastAggregate.Add(record);
        if (position > AppliedPosition) AppliedPosition = position;
    }

    /// <summary>The merge of the minutes from the window's start on (minutes ahead of the clock included).</summary>
    public MetricsAggregate Window(DateTimeOffset now, TimeSpan window)
    {
        var first = MinuteOf(TimeWindow.StartAt(now, window));
        var result = new MetricsAggregate();
        foreach (var (minute, aggregate) in _minutes)
            if (minute >= first) result.Merge(aggregate);
        return result;
    }

    public void Prune(DateTimeOffset now)
    {
        var oldest = MinuteOf(now - LiveRetention);
        foreach (var minute in _minutes.Keys.Where(m => m < oldest).ToArray())
        {
            _minutes.Remove(minute);
            _unflushed.Remove(minute);
        }
        _lastAggregate = null;
    }

    /// <summary>
    /// Roll-ups for every minute changed since the last call, and for the hours that hold them.
    /// The minutes count as flushed; <see cref="Unflush"/> puts them back when the write fails.
    /// </summary>
    public (IReadOnlyList<HistoryRow> Rows, long[] Minutes) TakeUnflushed(string model)
    {
        var minutes = _unflushed.ToArray();
        _unflushed.Clear();
        _lastAggregate = null;
        var rows = new List<HistoryRow>(minutes.Length + 2);
        foreach (var minute in minutes)
            rows.Add(new HistoryRow(model, HistoryResolution.Minute, StartOf(minute), _minutes[minute].Clone()));
        foreach (var hour in minutes.Select(m => m - m % 60).Distinct())
        {
            var aggregate = new MetricsAggregate();
            for (var m = hour; m < hour + 60; m++)
                if (_minutes.TryGetValue(m, out var minuteAggregate)) aggregate.Merge(minuteAggregate);
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
            foreach (var (minute, aggregate) in _minutes)
            {
                writer.Write(minute);
                aggregate.WriteTo(writer);
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
        for (var i = 0; i < minutes; i++) ledger._minutes[reader.ReadInt64()] = MetricsAggregate.ReadFrom(reader);
        var unflushed = reader.Read7BitEncodedInt();
        for (var i = 0; i < unflushed; i++) ledger._unflushed.Add(reader.ReadInt64());
        return ledger;
    }

    public static long MinuteOf(DateTimeOffset time) => Math.DivRem(time.ToUnixTimeSeconds(), 60, out var r) - (r < 0 ? 1 : 0);

    public static DateTimeOffset StartOf(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);
}
