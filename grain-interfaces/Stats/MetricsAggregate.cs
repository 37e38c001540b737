
namespace Kyros.Perf.Stats;

/// <summary>
/// Everything a summary needs about a set of records, in a form that merges exactly:
/// counts and sums add, latency and TTFT are quantile sketches.
/// </summary>
[GenerateSerializer, Alias("kyros.MetricsAggregate")]
public sealed class MetricsAggregate
{
    /// <summary>The error kind counted when a failed record names none.</summary>
    public const string UnknownErrorKind = "unknown";

    // Stored in place of the count by an aggregate of feedback alone; no real count is negative.
    private const long QualityOnly = -1;
    // Written before the count when tool calls were made: aggregates stored before they were counted read as none.
    private const long ToolCallsFollow = -2;
    // Written before the count when answers came from the response cache: older aggregates read as no hits.
    private const long CacheHitsFollow = -3;

    [Id(0)] private long _count;
    [Id(1)] private long _successes;
    [Id(2)] private Dictionary<string, long> _errorsByKind = new(StringComparer.Ordinal);
    [Id(3)] private QuantileSketch _latency = new();
    [Id(4)] private QuantileSketch _ttft = new();
    [Id(5)] private long _inputTokens;
    [Id(6)] private long _outputTokens;
    [Id(7)] private double _costTotal;
    [Id(8)] private double _qualitySum;
    [Id(9)] private long _qualityCount;
    [Id(10)] private DateTimeOffset? _first;
    [Id(11)] private DateTimeOffset? _last;
    [Id(12)] private long _toolCalls;
    [Id(13)] private long _cacheHits;
    [Id(14)] private double _costSaved;

    public long Count => _count;
    public long Successes => _successes;
    public IReadOnlyDictionary<string, long> ErrorsByKind => _errorsByKind;
    public QuantileSketch Latency => _latency;
    public QuantileSketch TimeToFirstToken => _ttft;
    public long InputTokens => _inputTokens;
    public long OutputTokens => _outputTokens;
    /// <summary>Tool calls the model made in its answers.</summary>
    public long ToolCalls => _toolCalls;
    /// <summary>Requests answered from the response cache (counted in <see cref="Count"/>, not in the latency sketches).</summary>
    public long CacheHits => _cacheHits;
    /// <summary>What the cache hits would have cost: the cost of the calls that filled their entries.</summary>
    public double CostSaved => _costSaved;
    public double CostTotal => _costTotal;
    public double QualitySum => _qualitySum;
    public long QualityCount => _qualityCount;
    public DateTimeOffset? FirstTimestamp => _first;
    public DateTimeOffset? LastTimestamp => _last;

    public void Add(ModelPerformanceRecord record)
    {
        if (record.IsFeedback)
        {
            _qualitySum += record.QualityScore ?? 0;
            _qualityCount++;
            return;
        }
        _count++;
        if (record.Success) _successes++;
        else
        {
            var kind = record.ErrorKind ?? UnknownErrorKind;
            _errorsByKind[kind] = _errorsByKind.GetValueOrDefault(kind) + 1;
        }
        if (record.CacheHit)
        {
            // A hit's microseconds say nothing of the model: its latency and TTFT stay the model's own.
            _cacheHits++;
            _costSaved += record.CostSaved;
        }
        else
        {
            _latency.Add(record.ExecutionTime);
            if (record.TimeToFirstToken is { } ttft) _ttft.Add(ttft);
        }
        _inputTokens += record.InputTokens;
        _outputTokens += record.OutputTokens;
        _toolCalls += record.ToolCalls;
        _costTotal += record.Cost;
        if (record.QualityScore is { } quality)
        {
            _qualitySum += quality;
            _qualityCount++;
        }
        if (_first is null || record.Timestamp < _first) _first = record.Timestamp;
        if (_last is null || record.Timestamp > _last) _last = record.Timestamp;
    }

    public void Merge(MetricsAggregate other)
    {
        if (other._count == 0)
        {
            // Feedback alone (a late score in a bucket that holds no request) carries quality only.
            _qualitySum += other._qualitySum;
            _qualityCount += other._qualityCount;
            return;
        }
        _count += other._count;
        _successes += other._successes;
        foreach (var (kind, n) in other._errorsByKind)
            _errorsByKind[kind] = _errorsByKind.GetValueOrDefault(kind) + n;
        _latency.Merge(other._latency);
        _ttft.Merge(other._ttft);
        _inputTokens += other._inputTokens;
        _outputTokens += other._outputTokens;
        _toolCalls += other._toolCalls;
        _cacheHits += other._cacheHits;
        _costSaved += other._costSaved;
        _costTotal += other._costTotal;
        _qualitySum += other._qualitySum;
        _qualityCount += other._qualityCount;
        if (_first is null || other._first < _first) _first = other._first;
        if (_last is null || other._last > _last) _last = other._last;
    }

    public MetricsAggregate Clone()
    {
        var copy = new MetricsAggregate();
        copy.Merge(this);
        return copy;
    }

    public void WriteTo(BinaryWriter writer)
    {
        if (_count == 0 && _qualityCount > 0)
        {
            writer.Write7BitEncodedInt64(QualityOnly);
            writer.Write(_qualitySum);
            writer.Write7BitEncodedInt64(_qualityCount);
            return;
        }
        if (_toolCalls > 0 && _count > 0)
        {
            writer.Write7BitEncodedInt64(ToolCallsFollow);
            writer.Write7BitEncodedInt64(_toolCalls);
        }
        if (_cacheHits > 0 && _count > 0)
        {
            writer.Write7BitEncodedInt64(CacheHitsFollow);
            writer.Write7BitEncodedInt64(_cacheHits);
            writer.Write(_costSaved);
        }
        writer.Write7BitEncodedInt64(_count);
        if (_count == 0) return;
        writer.Write7BitEncodedInt64(_successes);
        writer.Write7BitEncodedInt(_errorsByKind.Count);
        foreach (var (kind, n) in _errorsByKind)
        {
            writer.Write(kind);
            writer.Write7BitEncodedInt64(n);
        }
        _latency.WriteTo(writer);
        _ttft.WriteTo(writer);
        writer.Write7BitEncodedInt64(_inputTokens);
        writer.Write7BitEncodedInt64(_outputTokens);
        writer.Write(_costTotal);
        writer.Write(_qualitySum);
        writer.Write7BitEncodedInt64(_qualityCount);
        writer.Write(_first!.Value.UtcTicks);
        writer.Write(_last!.Value.UtcTicks);
    }

    public static MetricsAggregate ReadFrom(BinaryReader reader)
    {
        var aggregate = new MetricsAggregate();
        aggregate.MergeFrom(reader);
        return aggregate;
    }

    /// <summary>Merges a stored aggregate (see <see cref="WriteTo"/>) without building it first.</summary>
    public void MergeFrom(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt64();
        if (count == ToolCallsFollow)
        {
            _toolCalls += reader.Read7BitEncodedInt64();
            count = reader.Read7BitEncodedInt64();
        }
        if (count == CacheHitsFollow)
        {
            _cacheHits += reader.Read7BitEncodedInt64();
            _costSaved += reader.ReadDouble();
            count = reader.Read7BitEncodedInt64();
        }
        if (count == QualityOnly)
        {
            _qualitySum += reader.ReadDouble();
            _qualityCount += reader.Read7BitEncodedInt64();
            return;
        }
        if (count == 0) return;
        _count += count;
        _successes += reader.Read7BitEncodedInt64();
        var kinds = reader.Read7BitEncodedInt();
        for (var i = 0; i < kinds; i++)
        {
            var kind = reader.ReadString();
            _errorsByKind[kind] = _errorsByKind.GetValueOrDefault(kind) + reader.Read7BitEncodedInt64();
        }
        _latency.MergeFrom(reader);
        _ttft.MergeFrom(reader);
        _inputTokens += reader.Read7BitEncodedInt64();
        _outputTokens += reader.Read7BitEncodedInt64();
        _costTotal += reader.ReadDouble();
        _qualitySum += reader.ReadDouble();
        _qualityCount += reader.Read7BitEncodedInt64();
        var first = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        var last = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        if (_first is null || first < _first) _first = first;
        if (_last is null || last > _last) _last = last;
    }

    /// <summary>Merges an aggregate stored by <see cref="ToBytes"/>.</summary>
    public void MergeFrom(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false));
        MergeFrom(reader);
    }

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) WriteTo(writer);
        return stream.ToArray();
    }

    public static MetricsAggregate FromBytes(byte[] bytes)
    {
        var aggregate = new MetricsAggregate();
        aggregate.MergeFrom(bytes);
        return aggregate;
    }
}
