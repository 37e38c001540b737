namespace Kyros.Perf.Gateway;

/// <summary>Where the response cache keeps its entries: Redis in a cluster, memory when embedded.</summary>
public interface IResponseCacheStore
{
    Task<byte[]?> GetAsync(string key);

    Task SetAsync(string key, byte[] value, TimeSpan ttl);
}
