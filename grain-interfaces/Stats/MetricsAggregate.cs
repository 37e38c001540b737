
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

    public long Count => _count;
    public long Successes => _successes;
    public IReadOnlyDictionary<string, long> ErrorsByKind => _errorsByKind;
    public QuantileSketch Latency => _latency;
    public QuantileSketch TimeToFirstToken => _ttft;
    public long InputTokens => _inputTokens;
    public long OutputTokens => _outputTokens;
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
        _latency.Add(record.ExecutionTime);
        if (record.TimeToFirstToken is { } ttft) _ttft.Add(ttft);
        _inputTokens += record.InputTokens;
        _outputTokens += record.OutputTokens;
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
        if (other._count == 0) return;
        _count += other._count;
        _successes += other._successes;
        foreach (var (kind, n) in other._errorsByKind)
            _errorsByKind[kind] = _errorsByKind.GetValueOrDefault(kind) + n;
        _latency.Merge(other._latency);
        _ttft.Merge(other._ttft);
        _inputTokens += other._inputTokens;
        _outputTokens += other._outputTokens;
        _costTotal += other._costTotal;
        _qualitySum += other._qualitySum;
        _qualityCount += other._qualityCount;
        if (_first is null || other._first < _first) _first = other._first;
        if (_last is null || other._last > _last) _last = other._last;
    }

    /// <summary>Shrinks the sketches of an aggregate that will rarely change again (see <see cref="QuantileSketch.Compact"/>).</summary>
    public void Compact()
    {
        _latency.Compact();
        _ttft.Compact();
    }

    public MetricsAggregate Clone()
    {
        var copy = new MetricsAggregate();
        copy.Merge(this);
        return copy;
    }

    public void WriteTo(BinaryWriter writer)
    {
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
        var aggregate = new MetricsAggregate { _count = reader.Read7BitEncodedInt64() };
        if (aggregate._count == 0) return aggregate;
        aggregate._successes = reader.Read7BitEncodedInt64();
        var kinds = reader.Read7BitEncodedInt();
        for (var i = 0; i < kinds; i++) aggregate._errorsByKind[reader.ReadString()] = reader.Read7BitEncodedInt64();
        aggregate._latency = QuantileSketch.ReadFrom(reader);
        aggregate._ttft = QuantileSketch.ReadFrom(reader);
        aggregate._inputTokens = reader.Read7BitEncodedInt64();
        aggregate._outputTokens = reader.Read7BitEncodedInt64();
        aggregate._costTotal = reader.ReadDouble();
        aggregate._qualitySum = reader.ReadDouble();
        aggregate._qualityCount = reader.Read7BitEncodedInt64();
        aggregate._first = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        aggregate._last = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
        return aggregate;
    }

    public byte[] ToBytes()
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) WriteTo(writer);
        return stream.ToArray();
    }

    public static MetricsAggregate FromBytes(byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes));
        return ReadFrom(reader);
    }
}
