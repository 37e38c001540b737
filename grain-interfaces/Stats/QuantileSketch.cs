namespace Kyros.Perf.Stats;

/// <summary>
/// A mergeable quantile sketch with a relative-error guarantee (the DDSketch design:
/// logarithmic buckets, so every reported quantile is within <see cref="RelativeAccuracy"/>
/// of the true value). One fixed accuracy across the product, so any two sketches merge exactly.
/// </summary>
[GenerateSerializer, Alias("kyros.QuantileSketch")]
public sealed class QuantileSketch
{
    /// <summary>Every quantile is within 1% of the true value of the element at that rank.</summary>
    public const double RelativeAccuracy = 0.01;

    /// <summary>Values below this count as zero (1 ns when the unit is seconds).</summary>
    public const double MinIndexableValue = 1e-9;

    private static readonly double Gamma = (1 + RelativeAccuracy) / (1 - RelativeAccuracy);
    private static readonly double InverseLogGamma = 1.0 / Math.Log(Gamma);
    private static readonly double MidpointFactor = 2.0 / (Gamma + 1);

    [Id(0)] private int _offset;
    [Id(1)] private long[] _bins = [];
    [Id(2)] private long _zeroCount;
    [Id(3)] private long _count;
    [Id(4)] private double _sum;
    [Id(5)] private double _min = double.PositiveInfinity;
    [Id(6)] private double _max = double.NegativeInfinity;

    // A compacted sketch keeps only its occupied buckets (index, count), sorted by index, and no dense array.
    // Those arrays are never changed in place, so clones may share them.
    [Id(7)] private int[]? _sparseIndex;
    [Id(8)] private long[]? _sparseCount;

    public long Count => _count;
    public double Sum => _sum;
    public double? Min => _count == 0 ? null : _min;
    public double? Max => _count == 0 ? null : _max;
    public double? Mean => _count == 0 ? null : _sum / _count;

    /// <summary>Number of buckets held: dense ones (8 bytes each), or occupied ones once compacted (12 bytes each).</summary>
    public int AllocatedBins => _sparseIndex?.Length ?? _bins.Length;

    public bool IsCompact => _sparseIndex is not null;

    /// <summary>
    /// Shrinks a sketch that will rarely change again (a closed minute) to its occupied buckets. Its answers do not change;
    /// a later <see cref="Add"/> or <see cref="Merge"/> into it expands it again.
    /// </summary>
    public void Compact()
    {
        if (_sparseIndex is not null || _bins.Length == 0) return;
        var occupied = 0;
        foreach (var bin in _bins)
            if (bin != 0) occupied++;
        var index = new int[occupied];
        var count = new long[occupied];
        for (int i = 0, j = 0; i < _bins.Length; i++)
        {
            if (_bins[i] == 0) continue;
            index[j] = i + _offset;
            count[j++] = _bins[i];
        }
        (_sparseIndex, _sparseCount, _bins, _offset) = (index, count, [], 0);
    }

    public void Add(double value)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(nameof(value), value, "Sketch values must be finite and non-negative.");

        Expand();
        _count++;
        _sum += value;
        if (value < _min) _min = value;
        if (value > _max) _max = value;
        if (value < MinIndexableValue)
        {
            _zeroCount++;
            return;
        }

        var index = IndexOf(value);
        EnsureCovers(index, index);
        _bins[index - _offset]++;
    }

    public void Merge(QuantileSketch other)
    {
        if (other._count == 0) return;
        Expand();
        _count += other._count;
        _sum += other._sum;
        _zeroCount += other._zeroCount;
        if (other._min < _min) _min = other._min;
        if (other._max > _max) _max = other._max;
        if (other._sparseIndex is { Length: > 0 } index)
        {
            EnsureCovers(index[0], index[^1]);
            for (var i = 0; i < index.Length; i++) _bins[index[i] - _offset] += other._sparseCount![i];
            return;
        }
        if (other._bins.Length == 0) return;

        EnsureCovers(other._offset, other._offset + other._bins.Length - 1);
        var shift = other._offset - _offset;
        for (var i = 0; i < other._bins.Length; i++)
            _bins[shift + i] += other._bins[i];
    }

    /// <summary>
    /// The value at rank <c>q * (count - 1)</c> within the relative accuracy, clamped to the exact
    /// minimum and maximum (which q = 0 and q = 1 return exactly); null when the sketch is empty.
    /// </summary>
    public double? Quantile(double q)
    {
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "Quantile must be within 0..1.");
        if (_count == 0) return null;
        if (q == 0) return _min;
        if (q == 1) return _max;

        var rank = q * (_count - 1);
        double cumulative = _zeroCount;
        if (cumulative > rank) return _min;
        if (_sparseIndex is { } sparse)
        {
            for (var i = 0; i < sparse.Length; i++)
            {
                cumulative += _sparseCount![i];
                if (cumulative > rank) return Math.Clamp(ValueOf(sparse[i]), _min, _max);
            }
            return _max;
        }
        for (var i = 0; i < _bins.Length; i++)
        {
            cumulative += _bins[i];
            if (cumulative > rank)
                return Math.Clamp(ValueOf(i + _offset), _min, _max);
        }
        return _max;
    }

    public QuantileSketch Clone()
    {
        var copy = (QuantileSketch)MemberwiseClone();
        copy._bins = (long[])_bins.Clone();
        return copy;
    }

    public void WriteTo(BinaryWriter writer)
    {
        if (_sparseIndex is not null)
        {
            // Stored as the dense run it stands for: one format, whichever form the sketch is in.
            var copy = Clone();
            copy.Expand();
            copy.WriteTo(writer);
            return;
        }
        writer.Write7BitEncodedInt64(_count);
        if (_count == 0) return;
        writer.Write(_sum);
        writer.Write(_min);
        writer.Write(_max);
        writer.Write7BitEncodedInt64(_zeroCount);
        // Trim empty edges so a stored sketch holds only occupied buckets.
        int first = 0, last = _bins.Length - 1;
        while (first <= last && _bins[first] == 0) first++;
        while (last >= first && _bins[last] == 0) last--;
        var length = last - first + 1;
        writer.Write7BitEncodedInt(length);
        if (length == 0) return;
        writer.Write(_offset + first);
        for (var i = first; i <= last; i++) writer.Write7BitEncodedInt64(_bins[i]);
    }

    public static QuantileSketch ReadFrom(BinaryReader reader)
    {
        var sketch = new QuantileSketch { _count = reader.Read7BitEncodedInt64() };
        if (sketch._count == 0) return sketch;
        sketch._sum = reader.ReadDouble();
        sketch._min = reader.ReadDouble();
        sketch._max = reader.ReadDouble();
        sketch._zeroCount = reader.Read7BitEncodedInt64();
        var length = reader.Read7BitEncodedInt();
        if (length == 0) return sketch;
        sketch._offset = reader.ReadInt32();
        sketch._bins = new long[length];
        for (var i = 0; i < length; i++) sketch._bins[i] = reader.Read7BitEncodedInt64();
        return sketch;
    }

    /// <summary>Turns a compacted sketch back into a dense one before it changes.</summary>
    private void Expand()
    {
        if (_sparseIndex is not { } index) return;
        var count = _sparseCount!;
        (_sparseIndex, _sparseCount) = (null, null);
        if (index.Length == 0) return;
        EnsureCovers(index[0], index[^1]);
        for (var i = 0; i < index.Length; i++) _bins[index[i] - _offset] = count[i];
    }

    private static int IndexOf(double value) => (int)Math.Ceiling(Math.Log(value) * InverseLogGamma);

    private static double ValueOf(int index) => Math.Exp(index / InverseLogGamma) * MidpointFactor;

    private void EnsureCovers(int low, int high)
    {
        if (_bins.Length == 0)
        {
            // A little slack on both sides: neighbouring values land in neighbouring buckets.
            _offset = low - 8;
            _bins = new long[high - low + 17];
            return;
        }
        var end = _offset + _bins.Length - 1;
        if (low >= _offset && high <= end) return;

        var newLow = Math.Min(low, _offset);
        var newHigh = Math.Max(high, end);
        var growth = Math.Max(16, (newHigh - newLow + 1) / 4);
        if (newLow < _offset) newLow -= growth;
        if (newHigh > end) newHigh += growth;
        var grown = new long[newHigh - newLow + 1];
        Array.Copy(_bins, 0, grown, _offset - newLow, _bins.Length);
        _bins = grown;
        _offset = newLow;
    }
}
