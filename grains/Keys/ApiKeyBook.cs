using System.Security.Cryptography;

namespace Kyros.Perf.Keys;

/// <summary>
/// Decides each change of the key directory (the grain only stores and publishes): the settings' rules, names unique
/// among the stored keys and the configured ones, one key per hash, a revision for updates, and a version per change.
/// A refused change leaves the state as it was.
/// </summary>
public sealed class ApiKeyBook(ApiKeyDirectoryState state, IReadOnlySet<string> reservedNames, int maxKeys)
{
    public long Version => state.Version;

    public IReadOnlyList<ApiKeyRecord> Keys => state.Keys;

    public ApiKeySnapshot Snapshot => new(state.Version, [.. state.Keys], new Dictionary<string, DateTimeOffset>(state.RevokedSessions));

    /// <summary>
    /// Takes back <paramref name="copy"/>, a silo's copy of the directory, when the store holds none although the silo
    /// followed a stored one: the store lost it (a flushed or replaced Redis), and every run-time key would otherwise be gone.
    /// </summary>
    public void Restore(ApiKeySnapshot copy)
    {
        if (state.Version > 0) throw new InvalidOperationException("The directory is stored: there is nothing to restore.");
        state.Keys = [.. copy.Keys];
        state.RevokedSessions = copy.RevokedSessions is { } revoked ? new Dictionary<string, DateTimeOffset>(revoked) : [];
        state.Version = copy.Version + 1;
    }

    /// <summary>The most sessions held revoked at once; past it the oldest-expiring go first (a flood of sign-outs cannot grow the state without bound).</summary>
    public const int MaxRevokedSessions = 10_000;

    /// <summary>Holds <paramref name="sessionId"/> revoked until <paramref name="expiresAt"/>, forgetting those already expired.</summary>
    public void RevokeSession(string sessionId, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(sessionId) || sessionId.Length > 64 || !sessionId.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException("sessionId must be 1-64 lower-case hex digits.", nameof(sessionId));
        foreach (var expired in state.RevokedSessions.Where(s => s.Value <= now).Select(s => s.Key).ToList()) state.RevokedSessions.Remove(expired);
        if (expiresAt <= now) return;
        state.RevokedSessions[sessionId] = expiresAt;
        foreach (var oldest in state.RevokedSessions.OrderBy(s => s.Value).Take(state.RevokedSessions.Count - MaxRevokedSessions).Select(s => s.Key).ToList())
            state.RevokedSessions.Remove(oldest);
        state.Version++;
    }

    public ApiKeyRecord? Find(string id) => state.Keys.Find(k => k.Id == id);

    public ApiKeyRecord Create(byte[] hash, ApiKeySettings settings, string actor, DateTimeOffset now, Func<string, bool> modelKnown)
    {
        if (hash is not { Length: 32 }) throw new ArgumentException("hash must be the 32 bytes of the secret's SHA-256.", "hash");
        var valid = ApiKeyValidator.Validate(settings, now, modelKnown);
        EnsureNameFree(valid.Name, null);
        if (state.Keys.Count >= maxKeys) throw new ArgumentException($"The directory holds {maxKeys} keys, its limit (Kyros:Keys:MaxKeys): revoke some first.", "name");
        if (state.Keys.Any(k => CryptographicOperations.FixedTimeEquals(k.Hash, hash))) throw new ArgumentException("A key with this secret exists already.", "key");
        var key = new ApiKeyRecord
        {
            Id = NewId(), Hash = [.. hash], Settings = valid, CreatedAt = now, CreatedBy = actor, UpdatedAt = now, Revision = state.Version + 1,
        };
        state.Keys.Add(key);
        state.Version++;
        return key;
    }

    public ApiKeyRecord Update(string id, ApiKeySettings settings, long? expectedRevision, DateTimeOffset now, Func<string, bool> modelKnown)
    {
        var current = Existing(id);
        if (expectedRevision is { } expected && expected != current.Revision)
            throw new ApiKeyRevisionException($"Key '{id}' is at revision {current.Revision}, not {expected}: read it again and redo the change.");
        var valid = ApiKeyValidator.Validate(settings, now, modelKnown);
        EnsureNameFree(valid.Name, id);
        var updated = current with { Settings = valid, UpdatedAt = now, Revision = state.Version + 1 };
        state.Keys[state.Keys.IndexOf(current)] = updated;
        state.Version++;
        return updated;
    }

    public ApiKeyRecord Revoke(string id)
    {
        var current = Existing(id);
        state.Keys.Remove(current);
        state.Version++;
        return current;
    }

    private ApiKeyRecord Existing(string id)
    {
        ApiKeyValidator.ValidateId(id);
        return Find(id) ?? throw new ApiKeyNotFoundException($"Key '{id}' is not in the key directory (revoked, or never made).");
    }

    private void EnsureNameFree(string name, string? self)
    {
        if (reservedNames.Contains(name))
            throw new ApiKeyNameTakenException($"name '{name}' is a configured key's (Kyros:Auth:Keys): choose another.");
        if (state.Keys.Any(k => k.Settings.Name == name && k.Id != self))
            throw new ApiKeyNameTakenException($"name '{name}' is another key's: choose another.");
    }

    private static string NewId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
}
