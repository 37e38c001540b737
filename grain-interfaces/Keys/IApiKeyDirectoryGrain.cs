using Orleans.Concurrency;

namespace Kyros.Perf.Keys;

/// <summary>
/// The cluster's run-time API keys (one activation, key 0; grain state in Redis in a cluster). Only the SHA-256 hash of a
/// key's secret reaches it. Every silo keeps a call waiting for newer versions (<see cref="WaitForNewerAsync"/>), so a
/// new, changed or revoked key holds on every silo within the time of one message.
/// </summary>
[Alias("kyros.IApiKeyDirectoryGrain")]
public interface IApiKeyDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// The keys once the directory's version is newer than <paramref name="version"/>: at once if it is already, else as
    /// soon as a change is stored, or null after <paramref name="maxWait"/> (at most 20 s; zero answers at once).
    /// </summary>
    [AlwaysInterleave, Alias("wait")]
    Task<ApiKeySnapshot?> WaitForNewerAsync(long version, TimeSpan maxWait);

    /// <summary>Stores a new key under <paramref name="hash"/> (32 bytes: SHA-256 of its secret).</summary>
    [Alias("create")]
    Task<ApiKeyInfo> CreateAsync(byte[] hash, ApiKeySettings settings, string actor);

    [AlwaysInterleave, Alias("list")]
    Task<IReadOnlyList<ApiKeyInfo>> ListAsync();

    /// <summary>One key; null when the directory does not hold it.</summary>
    [AlwaysInterleave, Alias("get")]
    Task<ApiKeyInfo?> GetAsync(string id);

    /// <summary>Replaces the key's settings; against <paramref name="expectedRevision"/> when given.</summary>
    [Alias("update")]
    Task<ApiKeyInfo> UpdateAsync(string id, ApiKeySettings settings, long? expectedRevision, string actor);

    /// <summary>
    /// Refuses the pages' session <paramref name="sessionId"/> on every silo from the next version on, until it would
    /// have expired anyway (<paramref name="expiresAt"/>, when it is forgotten).
    /// </summary>
    [Alias("revoke-session")]
    Task RevokeSessionAsync(string sessionId, DateTimeOffset expiresAt);

    /// <summary>Deletes the key: every silo refuses it from the next version on. The key as it was.</summary>
    [Alias("revoke")]
    Task<ApiKeyInfo> RevokeAsync(string id, string actor);
}
