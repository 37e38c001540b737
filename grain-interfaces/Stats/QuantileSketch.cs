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

    public long Count => _count;
    public double Sum => _sum;
    public double? Min => _count == 0 ? null : _min;
    public double? Max => _count == 0 ? null : _max;
    public double? Mean => _count == 0 ? null : _sum / _count;

    /// <summary>Number of buckets held (8 bytes each).</summary>
    public int AllocatedBins => _bins.Length;

    public void Add(double value)
    {
        if (!double.IsFinite(value) || value < 0)
            throw new ArgumentOutOfRangeException(nameof(value), value, "Sketch values must be finite and non-negative.");

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
        _count += other._count;
        _sum += other._sum;
        _zeroCount += other._zeroCount;
        if (other._min < _min) _min = other._min;
        if (other._max > _max) _max = other._max;
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

    /// <summary>
    /// Writes the occupied buckets as a dense run of counts or, where fewer bytes, as (gap, count) pairs, which a
    /// sparse sketch (a minute of a few dozen records) needs. A sparse run is marked by a length of 0 while some value is
    /// not zero, which a dense run never writes, so sketches stored before the sparse form existed still read.
    /// </summary>
    public void WriteTo(BinaryWriter writer)
    {
        writer.Write7BitEncodedInt64(_count);
        if (_count == 0) return;
        writer.Write(_sum);
        writer.Write(_min);
        writer.Write(_max);
        writer.Write7BitEncodedInt64(_zeroCount);
        int first = 0, last = _bins.Length - 1;
        while (first <= last && _bins[first] == 0) first++;
        while (last >= first && _bins[last] == 0) last--;
        var length = last - first + 1;
        if (length <= 0)
        {
            writer.Write7BitEncodedInt(0);
            return;
        }
        int denseBytes = 4, sparseBytes = VarintSize(ZigZag(_offset + first)), occupied = 0;
        for (int i = first, previous = first; i <= last; i++)
        {
            denseBytes += VarintSize((ulong)_bins[i]);
            if (_bins[i] == 0) continue;
            occupied++;
            sparseBytes += VarintSize(SparseHead(i - previous, _bins[i])) + (_bins[i] == 1 ? 0 : VarintSize((ulong)_bins[i]));
            previous = i;
        }
        if (sparseBytes + VarintSize((ulong)occupied) < denseBytes + VarintSize((ulong)length))
        {
            writer.Write7BitEncodedInt(0);
            writer.Write7BitEncodedInt64((long)ZigZag(_offset + first));
            writer.Write7BitEncodedInt(occupied);
            for (int i = first, previous = first; i <= last; i++)
            {
                if (_bins[i] == 0) continue;
                writer.Write7BitEncodedInt64((long)SparseHead(i - previous, _bins[i]));
                if (_bins[i] != 1) writer.Write7BitEncodedInt64(_bins[i]);
                previous = i;
            }
            return;
        }
        writer.Write7BitEncodedInt(length);
        writer.Write(_offset + first);
        for (var i = first; i <= last; i++) writer.Write7BitEncodedInt64(_bins[i]);
    }

    public static QuantileSketch ReadFrom(BinaryReader reader)
    {
        var sketch = new QuantileSketch();
        sketch.MergeFrom(reader);
        return sketch;
    }

    /// <summary>Merges a stored sketch (see <see cref="WriteTo"/>) without building it first.</summary>
    public void MergeFrom(BinaryReader reader)
    {
        var count = reader.Read7BitEncodedInt64();
        if (count == 0) return;
        _count += count;
        _sum += reader.ReadDouble();
        var min = reader.ReadDouble();
        var max = reader.ReadDouble();
        if (min < _min) _min = min;
        if (max > _max) _max = max;
        var zeros = reader.Read7BitEncodedInt64();
        _zeroCount += zeros;
        var length = reader.Read7BitEncodedInt();
        if (length > 0)
        {
            var offset = reader.ReadInt32();
            EnsureCovers(offset, offset + length - 1);
            var shift = offset - _offset;
            for (var i = 0; i < length; i++) _bins[shift + i] += reader.Read7BitEncodedInt64();
            return;
        }
        if (zeros == count) return;
        var zigZag = (ulong)reader.Read7BitEncodedInt64();
        var index = (int)(zigZag >> 1) ^ -(int)(zigZag & 1);
        var occupied = reader.Read7BitEncodedInt();
        for (var i = 0; i < occupied; i++)
        {
            var head = (ulong)reader.Read7BitEncodedInt64();
            index += (int)(head >> 1);
            var n = (head & 1) == 0 ? 1 : reader.Read7BitEncodedInt64();
            EnsureCovers(index, index);
            _bins[index - _offset] += n;
        }
    }

    // A bucket's gap from the previous one, with the low bit saying whether a count other than 1 follows.
    private static ulong SparseHead(int gap, long count) => ((ulong)gap << 1) | (count == 1 ? 0UL : 1UL);

    private static ulong ZigZag(int value) => (ulong)(uint)((value << 1) ^ (value >> 31));

    private static int VarintSize(ulong value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
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
