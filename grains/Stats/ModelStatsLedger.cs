using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Stats;

/// <summary>
/// A model's live statistics, in two tiers so that a busy model costs kilobytes:
/// <list type="bullet">
/// <item>minutes, for the last <see cref="MinuteSpan"/>: per minute of record time one aggregate per instance; a closed
/// minute is packed into bytes;</item>
/// <item>hours, for <see cref="LiveRetention"/>: older minutes folded into one aggregate per hour, instances merged.</item>
/// </list>
/// A window that reaches past the minutes takes the hours it covers whole and, for the part hour at its start, that
/// hour's minute rows from history (<see cref="EdgeRange"/>), so it is exact. A late record for a folded minute first takes
/// that minute's row from history (<see cref="SeedLate"/>), so the minute it writes back is whole. An instance's own
/// figures reach back as far as the minutes do.
/// </summary>
public sealed class ModelStatsLedger
{
    /// <summary>
    /// A day of windows, plus the hour that holds the oldest minute (so hour roll-ups are whole), plus the longest
    /// checkpoint interval (a minute changed just before pruning is still whole when it is flushed), plus slack.
    /// </summary>
    public static readonly TimeSpan LiveRetention = TimeWindow.Max + TimeSpan.FromMinutes(60 + 10 + 5);

    /// <summary>How far back minutes (and each instance's figures) are kept; older ones are folded into hours.</summary>
    public static readonly TimeSpan MinuteSpan = TimeSpan.FromHours(2);

    /// <summary>The key of records that name no instance.</summary>
    private const string NoInstance = "";
    private const byte SnapshotVersion = 3;
    private const byte SnapshotVersionPerMinute = 2;
    private static readonly TimeSpan RoutingWindow = TimeSpan.FromMinutes(5);

    // Minutes still changing, per instance. A minute is open here or packed, never both.
    private readonly Dictionary<long, List<InstanceAggregate>> _open = [];
    // Closed minutes: every instance's aggregate in one array (see Pack).
    private readonly Dictionary<long, byte[]> _packed = [];
    // Folded minutes per hour (keyed by the hour's first minute), instances merged.
    private readonly Dictionary<long, byte[]> _hours = [];
    // What history held of a folded minute that then took a late record: already counted in its hour.
    private readonly Dictionary<long, MetricsAggregate> _seeds = [];
    private readonly HashSet<long> _unflushed = [];
    private readonly HashSet<long> _flushing = [];
    // Each instance with the newest minute it holds records in.
    private readonly Dictionary<string, long> _instances = new(StringComparer.Ordinal);
    // Minutes below this may have been folded into hours (those still held as minutes count as minutes).
    private long _foldedBelow = long.MinValue;
    private long _lastMinute;
    private string? _lastInstance;
    private MetricsAggregate? _lastAggregate;

    public long AppliedPosition { get; private set; }

    /// <summary>Failures since the last success, in the order records were applied (not kept in snapshots).</summary>
    public int ConsecutiveFailures { get; private set; }

    /// <summary>Successes applied by this ledger: it only rises, so a change means a success happened.</summary>
    public long SuccessesApplied { get; private set; }

    public int MinuteCount => _open.Count + _packed.Count;
    public int HourCount => _hours.Count;

    /// <summary>Changes whenever which minutes are answered from history changes: an edge cached under one value stays right while it holds.</summary>
    public int EdgeVersion { get; private set; }

    public long RecordCount
    {
        get
        {
            var total = new MetricsAggregate();
            foreach (var list in _open.Values)
                foreach (var entry in list) total.Merge(entry.Aggregate);
            foreach (var packed in _packed.Values) MergePacked(packed, null, total);
            foreach (var hour in _hours.Values) total.MergeFrom(hour);
            return total.Count;
        }
    }

    public bool HasUnflushed => _unflushed.Count > 0;

    /// <summary>The instances seen in the minutes kept.</summary>
    public IReadOnlyCollection<string> Instances => _instances.Keys;

    public bool KnowsInstance(string instance) => _instances.ContainsKey(instance);

    /// <summary>
    /// Refuses records that would take the model past <paramref name="limit"/> distinct instances, naming the first
    /// such record; otherwise counts their new instances at once, before their records are applied, so callers
    /// that interleave while a write is in flight cannot pass the limit together.
    /// </summary>
    public void ReserveInstances(IReadOnlyList<ModelPerformanceRecord> records, int limit, bool single)
    {
        Dictionary<string, long>? added = null;
        for (var i = 0; i < records.Count; i++)
        {
            var instance = records[i].Instance;
            if (instance is null || _instances.ContainsKey(instance) || !(added ??= new(StringComparer.Ordinal)).TryAdd(instance, MinuteOf(records[i].Timestamp))) continue;
            if (_instances.Count + added.Count > limit)
                throw new ArgumentException($"instance '{instance}' would be model '{records[i].Model}''s {limit + 1}th distinct instance; the limit is {limit} (Kyros:ModelStats:MaxInstancesPerModel).",
                    single ? "instance" : $"[{i}].instance");
        }
        if (added is not null)
            foreach (var (instance, minute) in added) _instances[instance] = minute;
    }

    /// <summary>Where history rows split when the live state is rebuilt: hours before, minutes from (an hour boundary).</summary>
    public static DateTimeOffset SeedSplit(DateTimeOffset now) => StartOf(HourOf(MinuteOf(TimeWindow.StartAt(now, MinuteSpan))));

    /// <summary>
    /// Takes the live state back from history after it was lost: minute rows from <paramref name="split"/> on, hour rows
    /// before it (each all instances merged). History already holds them, so they are not flushed again.
    /// </summary>
    public void SeedHistory(IEnumerable<(DateTimeOffset Start, MetricsAggregate Aggregate)> minutes,
        IEnumerable<(DateTimeOffset Start, MetricsAggregate Aggregate)> hours, DateTimeOffset split)
    {
        foreach (var (start, aggregate) in minutes)
        {
            var minute = MinuteOf(start);
            if (IsLive(minute) || aggregate.Count == 0 && aggregate.QualityCount == 0) continue;
            _packed[minute] = Pack([new InstanceAggregate(NoInstance, aggregate)]);
        }
        foreach (var (start, aggregate) in hours)
            _hours.TryAdd(MinuteOf(start), aggregate.ToBytes());
        _foldedBelow = Math.Max(_foldedBelow, MinuteOf(split));
        _lastAggregate = null;
        EdgeVersion++;
    }

    /// <summary>The folded minutes these records fall in that need their history row (<see cref="SeedLate"/>) before they are applied.</summary>
    public IReadOnlyList<long> LateMinutes(IEnumerable<ModelPerformanceRecord> records)
    {
        List<long>? late = null;
        foreach (var record in records)
        {
            var minute = MinuteOf(record.Timestamp);
            if (minute < _foldedBelow && !IsLive(minute) && !_seeds.ContainsKey(minute) && !(late ??= []).Contains(minute)) late.Add(minute);
        }
        return late ?? (IReadOnlyList<long>)[];
    }

    /// <summary>Takes what history holds of a folded minute (nothing when it held no records) before a late record changes it.</summary>
    public void SeedLate(long minute, MetricsAggregate? fromHistory)
    {
        if (IsLive(minute) || _seeds.ContainsKey(minute)) return;
        _seeds[minute] = fromHistory ?? new MetricsAggregate();
        EdgeVersion++;
    }

    public void Apply(ModelPerformanceRecord record, long position)
    {
        var minute = MinuteOf(record.Timestamp);
        var instance = record.Instance ?? NoInstance;
        // Records arrive mostly in time order from few instances: the last bucket touched is the likely one again.
        if (minute != _lastMinute || _lastAggregate is null || !string.Equals(instance, _lastInstance, StringComparison.Ordinal))
        {
            var list = OpenMinute(minute);
            MetricsAggregate? found = null;
            foreach (var entry in list)
                if (string.Equals(entry.Instance, instance, StringComparison.Ordinal)) found = entry.Aggregate;
            if (found is null) list.Add(new InstanceAggregate(instance, found = new MetricsAggregate()));
            if (record.Instance is not null && (!_instances.TryGetValue(record.Instance, out var newest) || minute > newest)) _instances[record.Instance] = minute;
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

    /// <summary>The window's first instant as answered: an instance's figures start no earlier than the minutes kept.</summary>
    public DateTimeOffset WindowStart(DateTimeOffset now, TimeSpan window, string? instance = null) => StartOf(FirstMinute(now, window, instance));

    /// <summary>
    /// The minutes a window needs from history: those of the part hour at its start that were folded. Null when the
    /// live state answers it alone. Merge the rows with <see cref="MergeEdge"/> and pass the result to <see cref="Window"/>.
    /// </summary>
    public (DateTimeOffset From, DateTimeOffset To)? EdgeRange(DateTimeOffset now, TimeSpan window)
    {
        var first = FirstMinute(now, window, null);
        var end = Math.Min(HourCeiling(first), _foldedBelow);
        return first < end ? (StartOf(first), StartOf(end)) : null;
    }

    /// <summary>The history rows of an edge merged, leaving out minutes that are live (the live state counts those whole).</summary>
    public MetricsAggregate MergeEdge(IEnumerable<(DateTimeOffset Start, MetricsAggregate Aggregate)> rows)
    {
        var edge = new MetricsAggregate();
        foreach (var (start, aggregate) in rows)
        {
            var minute = MinuteOf(start);
            if (!IsLive(minute) && !_seeds.ContainsKey(minute)) edge.Merge(aggregate);
        }
        return edge;
    }

    /// <summary>
    /// The merge of the records from the window's start on (minutes ahead of the clock included), of every instance or
    /// of one. A model's window that reaches past the minutes needs its <paramref name="edge"/> (see <see cref="EdgeRange"/>).
    /// </summary>
    public MetricsAggregate Window(DateTimeOffset now, TimeSpan window, string? instance = null, MetricsAggregate? edge = null)
    {
        var first = FirstMinute(now, window, instance);
        var firstWholeHour = HourCeiling(first);
        var result = new MetricsAggregate();
        foreach (var (minute, list) in _open)
        {
            if (minute < first) continue;
            foreach (var entry in list)
                if (instance is null || string.Equals(entry.Instance, instance, StringComparison.Ordinal)) result.Merge(entry.Aggregate);
        }
        foreach (var (minute, packed) in _packed)
            if (minute >= first) MergePacked(packed, instance, result);
        if (instance is not null) return result;
        // Hours hold what was folded; a live minute in a whole hour adds only what came after its fold.
        foreach (var (hour, packed) in _hours)
            if (hour >= firstWholeHour) result.MergeFrom(packed);
        foreach (var (minute, seed) in _seeds)
            if (minute >= first && minute < firstWholeHour) result.Merge(seed);
        if (edge is not null) result.Merge(edge);
        return result;
    }

    /// <summary>
    /// Each minute of the window that holds records, every instance merged, oldest first. Minutes folded into hours come
    /// from <paramref name="history"/> (minute rows of the window's folded part, see <see cref="FoldedRange"/>).
    /// </summary>
    public IReadOnlyList<ModelMinute> Minutes(DateTimeOffset now, TimeSpan window,
        IEnumerable<(DateTimeOffset Start, MetricsAggregate Aggregate)>? history = null)
    {
        var first = MinuteOf(TimeWindow.StartAt(now, window));
        var byMinute = new SortedDictionary<long, MetricsAggregate>();
        foreach (var minute in _open.Keys.Concat(_packed.Keys))
            if (minute >= first) byMinute[minute] = WholeMinute(minute);
        foreach (var (start, aggregate) in history ?? [])
        {
            var minute = MinuteOf(start);
            if (minute >= first && !IsLive(minute)) byMinute[minute] = aggregate;
        }
        var minutes = new List<ModelMinute>(byMinute.Count);
        foreach (var (minute, a) in byMinute)
        {
            if (a.Count == 0) continue;
            minutes.Add(new ModelMinute(StartOf(minute), a.Count, a.Successes, a.ErrorsByKind.GetValueOrDefault("timeout"),
                a.Latency.Quantile(0.5), a.Latency.Quantile(0.99), a.QualitySum, a.QualityCount, a.CostTotal));
        }
        return minutes;
    }

    /// <summary>The part of a window whose minutes were folded into hours (read from history for <see cref="Minutes"/>); null when none.</summary>
    public (DateTimeOffset From, DateTimeOffset To)? FoldedRange(DateTimeOffset now, TimeSpan window)
    {
        var first = MinuteOf(TimeWindow.StartAt(now, window));
        return first < _foldedBelow ? (StartOf(first), StartOf(_foldedBelow)) : null;
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

    /// <summary>
    /// Packs closed minutes, folds flushed minutes older than <see cref="MinuteSpan"/> into their hours, and drops hours
    /// past the live retention. Answers do not change.
    /// </summary>
    public void Prune(DateTimeOffset now)
    {
        var current = MinuteOf(now);
        foreach (var minute in _open.Keys.Where(m => m < current).ToArray())
        {
            _packed[minute] = Pack(_open[minute]);
            _open.Remove(minute);
        }
        _lastAggregate = null;

        // The minutes kept are those a window of MinuteSpan covers, so an instance's longer windows answer as that one.
        var boundary = MinuteOf(TimeWindow.StartAt(now, MinuteSpan));
        var folding = _packed.Keys.Where(m => m < boundary && !_unflushed.Contains(m) && !_flushing.Contains(m)).ToArray();
        foreach (var hour in folding.GroupBy(HourOf))
        {
            var aggregate = _hours.TryGetValue(hour.Key, out var held) ? MetricsAggregate.FromBytes(held) : new MetricsAggregate();
            foreach (var minute in hour)
            {
                MergePacked(_packed[minute], null, aggregate);
                _packed.Remove(minute);
                _seeds.Remove(minute);
            }
            _hours[hour.Key] = aggregate.ToBytes();
        }
        if (folding.Length > 0) EdgeVersion++;
        _foldedBelow = Math.Max(_foldedBelow, boundary);

        var oldest = MinuteOf(now - LiveRetention);
        foreach (var hour in _hours.Keys.Where(h => h + 60 <= oldest).ToArray()) _hours.Remove(hour);
        foreach (var minute in _packed.Keys.Where(m => m < oldest).ToArray())
        {
            _packed.Remove(minute);
            _unflushed.Remove(minute);
        }
        foreach (var instance in _instances.Where(i => i.Value < boundary).Select(i => i.Key).ToArray()) _instances.Remove(instance);
        // A burst (a day of records at once, a replay) leaves tables sized for it: ten thousand models would keep megabytes of empty slots.
        TrimExcess(_open);
        TrimExcess(_packed);
        TrimExcess(_hours);
    }

    private static void TrimExcess<TValue>(Dictionary<long, TValue> table)
    {
        if (table.Capacity > 2 * table.Count + 8) table.TrimExcess();
    }

    /// <summary>
    /// Roll-ups (all instances merged) for every minute changed since the last call, and for the hours that hold them.
    /// The minutes are in flight until <see cref="Flushed"/>, or <see cref="Unflush"/> when the write fails; meanwhile they are not folded.
    /// </summary>
    public (IReadOnlyList<HistoryRow> Rows, long[] Minutes) TakeUnflushed(string model)
    {
        var minutes = _unflushed.ToArray();
        _unflushed.Clear();
        _flushing.UnionWith(minutes);
        _lastAggregate = null;
        var rows = new List<HistoryRow>(minutes.Length + 2);
        foreach (var minute in minutes)
            rows.Add(new HistoryRow(model, HistoryResolution.Minute, StartOf(minute), WholeMinute(minute)));
        foreach (var hour in minutes.Select(HourOf).Distinct())
        {
            var aggregate = _hours.TryGetValue(hour, out var held) ? MetricsAggregate.FromBytes(held) : new MetricsAggregate();
            for (var m = hour; m < hour + 60; m++) MergeLive(m, null, aggregate);
            rows.Add(new HistoryRow(model, HistoryResolution.Hour, StartOf(hour), aggregate));
        }
        return (rows, minutes);
    }

    public void Flushed(IEnumerable<long> minutes) => _flushing.ExceptWith(minutes);

    public void Unflush(IEnumerable<long> minutes)
    {
        foreach (var minute in minutes)
        {
            _flushing.Remove(minute);
            if (IsLive(minute)) _unflushed.Add(minute);
        }
    }

    public byte[] ToSnapshot()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write(SnapshotVersion);
            writer.Write(AppliedPosition);
            writer.Write(_foldedBelow);
            writer.Write7BitEncodedInt(MinuteCount);
            foreach (var (minute, list) in _open) WriteBytes(writer, minute, Pack(list));
            foreach (var (minute, packed) in _packed) WriteBytes(writer, minute, packed);
            writer.Write7BitEncodedInt(_hours.Count);
            foreach (var (hour, packed) in _hours) WriteBytes(writer, hour, packed);
            writer.Write7BitEncodedInt(_seeds.Count);
            foreach (var (minute, seed) in _seeds) WriteBytes(writer, minute, seed.ToBytes());
            var unflushed = _unflushed.Union(_flushing).ToArray();
            writer.Write7BitEncodedInt(unflushed.Length);
            foreach (var minute in unflushed) writer.Write(minute);
            writer.Write7BitEncodedInt(_instances.Count);
            foreach (var (instance, minute) in _instances)
            {
                writer.Write(instance);
                writer.Write(minute);
            }
        }
        return stream.ToArray();
    }

    public static ModelStatsLedger FromSnapshot(byte[]? snapshot)
    {
        var ledger = new ModelStatsLedger();
        if (snapshot is null || snapshot.Length == 0) return ledger;
        using var reader = new BinaryReader(new MemoryStream(snapshot));
        var version = reader.ReadByte();
        if (version == SnapshotVersionPerMinute) return FromPerMinuteSnapshot(reader, ledger);
        if (version != SnapshotVersion) throw new InvalidDataException($"Unknown model statistics snapshot version {version}.");
        ledger.AppliedPosition = reader.ReadInt64();
        ledger._foldedBelow = reader.ReadInt64();
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--) ledger._packed[reader.ReadInt64()] = reader.ReadBytes(reader.Read7BitEncodedInt());
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--) ledger._hours[reader.ReadInt64()] = reader.ReadBytes(reader.Read7BitEncodedInt());
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--)
            ledger._seeds[reader.ReadInt64()] = MetricsAggregate.FromBytes(reader.ReadBytes(reader.Read7BitEncodedInt()));
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--) ledger._unflushed.Add(reader.ReadInt64());
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--) ledger._instances[reader.ReadString()] = reader.ReadInt64();
        return ledger;
    }

    public static long MinuteOf(DateTimeOffset time) => Math.DivRem(time.ToUnixTimeSeconds(), 60, out var r) - (r < 0 ? 1 : 0);

    public static DateTimeOffset StartOf(long minute) => DateTimeOffset.FromUnixTimeSeconds(minute * 60);

    /// <summary>Reads the snapshot of the version that kept every minute of the day per instance: its minutes fold at the next prune.</summary>
    private static ModelStatsLedger FromPerMinuteSnapshot(BinaryReader reader, ModelStatsLedger ledger)
    {
        ledger.AppliedPosition = reader.ReadInt64();
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--)
        {
            var minute = reader.ReadInt64();
            var list = new List<InstanceAggregate>();
            for (var count = reader.Read7BitEncodedInt(); count > 0; count--)
            {
                var instance = reader.ReadString();
                list.Add(new InstanceAggregate(instance, MetricsAggregate.ReadFrom(reader)));
                if (instance != NoInstance && (!ledger._instances.TryGetValue(instance, out var newest) || minute > newest)) ledger._instances[instance] = minute;
            }
            ledger._packed[minute] = Pack(list);
        }
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--) ledger._unflushed.Add(reader.ReadInt64());
        return ledger;
    }

    private static void WriteBytes(BinaryWriter writer, long key, byte[] bytes)
    {
        writer.Write(key);
        writer.Write7BitEncodedInt(bytes.Length);
        writer.Write(bytes);
    }

    private static long HourOf(long minute) => minute - (((minute % 60) + 60) % 60);

    private static long HourCeiling(long minute) => HourOf(minute) == minute ? minute : HourOf(minute) + 60;

    private long FirstMinute(DateTimeOffset now, TimeSpan window, string? instance)
    {
        var first = MinuteOf(TimeWindow.StartAt(now, window));
        return instance is null ? first : Math.Max(first, _foldedBelow);
    }

    private bool IsLive(long minute) => _open.ContainsKey(minute) || _packed.ContainsKey(minute);

    private List<InstanceAggregate> OpenMinute(long minute)
    {
        if (_open.TryGetValue(minute, out var list)) return list;
        list = [];
        if (_packed.Remove(minute, out var packed)) list.AddRange(Unpack(packed));
        _open[minute] = list;
        return list;
    }

    /// <summary>A minute as history stores it: every instance, and what history held of it before a late record.</summary>
    private MetricsAggregate WholeMinute(long minute)
    {
        var aggregate = new MetricsAggregate();
        MergeLive(minute, null, aggregate);
        if (_seeds.TryGetValue(minute, out var seed)) aggregate.Merge(seed);
        return aggregate;
    }

    private void MergeLive(long minute, string? instance, MetricsAggregate into)
    {
        if (_open.TryGetValue(minute, out var list))
        {
            foreach (var entry in list)
                if (instance is null || string.Equals(entry.Instance, instance, StringComparison.Ordinal)) into.Merge(entry.Aggregate);
        }
        else if (_packed.TryGetValue(minute, out var packed)) MergePacked(packed, instance, into);
    }

    // A packed minute: the number of instances, then per instance its name, the length of its aggregate and the aggregate.
    private static byte[] Pack(List<InstanceAggregate> list)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write7BitEncodedInt(list.Count);
            foreach (var entry in list)
            {
                var bytes = entry.Aggregate.ToBytes();
                writer.Write(entry.Instance);
                writer.Write7BitEncodedInt(bytes.Length);
                writer.Write(bytes);
            }
        }
        return stream.ToArray();
    }

    private static List<InstanceAggregate> Unpack(byte[] packed)
    {
        using var reader = new BinaryReader(new MemoryStream(packed, writable: false));
        var list = new List<InstanceAggregate>();
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--)
        {
            var instance = reader.ReadString();
            reader.Read7BitEncodedInt();
            list.Add(new InstanceAggregate(instance, MetricsAggregate.ReadFrom(reader)));
        }
        return list;
    }

    private static void MergePacked(byte[] packed, string? instance, MetricsAggregate into)
    {
        using var reader = new BinaryReader(new MemoryStream(packed, writable: false));
        for (var n = reader.Read7BitEncodedInt(); n > 0; n--)
        {
            var name = reader.ReadString();
            var length = reader.Read7BitEncodedInt();
            if (instance is null || string.Equals(name, instance, StringComparison.Ordinal)) into.MergeFrom(reader);
            else reader.BaseStream.Position += length;
        }
    }

    private sealed record InstanceAggregate(string Instance, MetricsAggregate Aggregate);
}
