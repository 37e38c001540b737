using Kyros.Perf.Stats;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Gateway;

/// <summary>The cluster's response cache: a Redis string per entry, <c>{prefix}:cache:{key}</c>, expiring by Redis' own TTL.</summary>
public sealed class RedisResponseCacheStore(IConnectionMultiplexer redis, IOptions<RecentRecordLogOptions> log) : IResponseCacheStore
{
    private readonly string _prefix = log.Value.KeyPrefix + ":cache:";

    public RedisKey KeyOf(string key) => _prefix + key;

    public async Task<byte[]?> GetAsync(string key) => await redis.GetDatabase().StringGetAsync(KeyOf(key)) is { HasValue: true } value ? (byte[])value! : null;

    public Task SetAsync(string key, byte[] value, TimeSpan ttl) => redis.GetDatabase().StringSetAsync(KeyOf(key), value, ttl);
}
