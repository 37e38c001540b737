using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>The embedded silo's response cache: bounded by entries and bytes, the least recently used first out; entries expire by <see cref="TimeProvider"/>.</summary>
public sealed class InMemoryResponseCacheStore(IOptions<ResponseCacheOptions> options, TimeProvider time) : IResponseCacheStore
{
    private readonly ResponseCacheOptions _options = options.Value;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = new(StringComparer.Ordinal);
    private readonly LinkedList<Entry> _recency = new();
    private long _bytes;

    public int Count { get { lock (_lock) return _entries.Count; } }
    public long Bytes { get { lock (_lock) return _bytes; } }

    public Task<byte[]?> GetAsync(string key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node)) return Task.FromResult<byte[]?>(null);
            if (node.Value.ExpiresAt <= time.GetUtcNow())
            {
                Remove(node);
                return Task.FromResult<byte[]?>(null);
            }
            _recency.Remove(node);
            _recency.AddFirst(node);
            return Task.FromResult<byte[]?>(node.Value.Value);
        }
    }

    public Task SetAsync(string key, byte[] value, TimeSpan ttl)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var old)) Remove(old);
            var node = _recency.AddFirst(new Entry(key, value, time.GetUtcNow() + ttl));
            _entries[key] = node;
            _bytes += value.Length;
            while (_entries.Count > _options.MaxEntries || _bytes > _options.MaxBytes) Remove(_recency.Last!);
        }
        return Task.CompletedTask;
    }

    private void Remove(LinkedListNode<Entry> node)
    {
        _recency.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Value.Length;
    }

    private sealed record Entry(string Key, byte[] Value, DateTimeOffset ExpiresAt);
}
