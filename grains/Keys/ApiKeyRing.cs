namespace Kyros.Perf.Keys;

/// <summary>
/// This silo's copy of the cluster's run-time keys, indexed by the SHA-256 of each secret: the request path looks a
/// presented key up here (one hash and one dictionary lookup, microseconds) and never calls a grain. Swapped whole when
/// <see cref="ApiKeySync"/> brings a newer version.
/// </summary>
public sealed class ApiKeyRing
{
    private volatile Indexed _current = new(new ApiKeySnapshot(0, []));

    public long Version => _current.Snapshot.Version;

    public ApiKeySnapshot Snapshot => _current.Snapshot;

    /// <summary>
    /// The key whose secret hashes to <paramref name="hash"/>. A dictionary lookup by hash is not constant-time, and need
    /// not be: run-time secrets carry 256 random bits, so learning which hash prefixes exist tells an attacker nothing
    /// about any secret (finding a preimage of a SHA-256 prefix is as hard as guessing the key).
    /// </summary>
    public ApiKeyRecord? Find(ReadOnlySpan<byte> hash) => hash.Length == 32 && _current.ByHash.TryGetValue(Convert.ToHexString(hash), out var key) ? key : null;

    public ApiKeyRecord? FindByName(string name) => _current.ByName.GetValueOrDefault(name);

    public ApiKeyRecord? FindById(string id) => _current.ById.GetValueOrDefault(id);

    /// <summary>Whether the pages' session <paramref name="sessionId"/> was signed out.</summary>
    public bool IsRevokedSession(string sessionId) => _current.Snapshot.RevokedSessions?.ContainsKey(sessionId) == true;

    /// <summary>Takes a newer version; an older or equal one (a slow answer) changes nothing. True when taken.</summary>
    public bool Apply(ApiKeySnapshot snapshot)
    {
        while (true)
        {
            var current = _current;
            if (snapshot.Version <= current.Snapshot.Version) return false;
            if (Interlocked.CompareExchange(ref _current, new Indexed(snapshot), current) == current) return true;
        }
    }

    private sealed class Indexed(ApiKeySnapshot snapshot)
    {
        public ApiKeySnapshot Snapshot { get; } = snapshot;
        public Dictionary<string, ApiKeyRecord> ByHash { get; } = snapshot.Keys.ToDictionary(k => Convert.ToHexString(k.Hash), StringComparer.Ordinal);
        public Dictionary<string, ApiKeyRecord> ByName { get; } = snapshot.Keys.ToDictionary(k => k.Settings.Name, StringComparer.Ordinal);
        public Dictionary<string, ApiKeyRecord> ById { get; } = snapshot.Keys.ToDictionary(k => k.Id, StringComparer.Ordinal);
    }
}
