namespace Kyros.Perf.Stats;

/// <summary>
/// A set of 64-bit hashes in one array (open addressing, linear probing, deletion by shifting back), 50–75 % full, so
/// 11–16 bytes a key where a <see cref="HashSet{T}"/> of longs takes 20 or more. Zero stands for an empty slot, so a zero key is kept as one.
/// </summary>
public sealed class LongSet
{
    private long[] _slots = new long[16];
    private int _count;

    public int Count => _count;

    public bool Contains(long key)
    {
        key = NonZero(key);
        for (var i = Home(key); _slots[i] != 0; i = Next(i))
            if (_slots[i] == key) return true;
        return false;
    }

    public bool Add(long key)
    {
        key = NonZero(key);
        if ((_count + 1) * 4L > _slots.Length * 3L) Resize(_slots.Length * 3 / 2);
        var i = Home(key);
        for (; _slots[i] != 0; i = Next(i))
            if (_slots[i] == key) return false;
        _slots[i] = key;
        _count++;
        return true;
    }

    public bool Remove(long key)
    {
        key = NonZero(key);
        var i = Home(key);
        for (; _slots[i] != key; i = Next(i))
            if (_slots[i] == 0) return false;
        // Shift back the keys after it whose home does not lie between the hole and themselves, so no probe chain breaks.
        for (var j = Next(i); _slots[j] != 0; j = Next(j))
        {
            var home = Home(_slots[j]);
            var between = i <= j ? i < home && home <= j : i < home || home <= j;
            if (between) continue;
            _slots[i] = _slots[j];
            i = j;
        }
        _slots[i] = 0;
        _count--;
        if (_slots.Length > 16 && _count * 4 < _slots.Length) Resize(Math.Max(16, _slots.Length / 2));
        return true;
    }

    private static long NonZero(long key) => key == 0 ? 1 : key;

    // Keys are hashes already: any slice of their bits is as good as any other.
    private int Home(long key) => (int)((ulong)key % (ulong)_slots.Length);

    private int Next(int i) => i + 1 == _slots.Length ? 0 : i + 1;

    private void Resize(int length)
    {
        var old = _slots;
        _slots = new long[length];
        foreach (var key in old)
        {
            if (key == 0) continue;
            var i = Home(key);
            while (_slots[i] != 0) i = Next(i);
            _slots[i] = key;
        }
    }
}
