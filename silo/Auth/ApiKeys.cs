using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;
using Kyros.Perf.Keys;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// The keys a request may present: the configured ones (<c>Kyros:Auth:Keys</c>), held as SHA-256 hashes and compared in
/// constant time (every key is compared, whichever matches), so neither a key's content nor its length leaks through
/// timing; then the cluster's run-time keys (<see cref="ApiKeyRing"/>), found by the hash itself (see
/// <see cref="ApiKeyRing.Find"/> for why that is safe), and refused once expired. Also the pages' session cookie: the
/// key's name, when it was issued and a random id, under an HMAC keyed by the key (a run-time key's: by its stored hash),
/// so a cookie never holds the key, dies with it, expires after <see cref="AuthOptions.SessionLifetime"/>, and once
/// signed out is refused on every silo (<see cref="ApiKeyRing.IsRevokedSession"/>).
/// </summary>
public sealed class ApiKeys
{
    private readonly Entry[] _keys;
    private readonly ApiKeyRing? _ring;
    private readonly TimeProvider _time;
    private readonly TimeSpan _sessionLifetime;
    private volatile RuntimeEntries _runtime = new(-1, [], []);

    public ApiKeys(IOptions<AuthOptions> options, ApiKeyRing? ring = null, TimeProvider? time = null)
    {
        _keys = [.. options.Value.Keys.Select(k => new Entry(k.Name, SHA256.HashData(Encoding.UTF8.GetBytes(k.Key)),
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(k.Key), "kyros-session"u8), [.. k.Scopes], k.RequestsPerMinute))];
        (_ring, _time, _sessionLifetime) = (ring, time ?? TimeProvider.System, options.Value.SessionLifetime);
    }

    /// <summary>Authentication is on when keys are configured; run-time keys add to them (alone they do not turn it on).</summary>
    public bool Enabled => _keys.Length > 0;

    /// <summary>The configured keys' names: run-time keys may not take them.</summary>
    public IEnumerable<string> ConfiguredNames => _keys.Select(k => k.Name);

    public Entry? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        Entry? found = null;
        foreach (var key in _keys)
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash)) found = key;
        return found ?? Live(Runtime().ByHash.GetValueOrDefault(Convert.ToHexString(hash)));
    }

    /// <summary>A new session for <paramref name="key"/>: <c>name.issued.id.mac</c>, valid for <see cref="AuthOptions.SessionLifetime"/>.</summary>
    public Session NewSession(Entry key)
    {
        var issued = _time.GetUtcNow();
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var body = $"{key.Name}.{issued.ToUnixTimeSeconds()}.{id}";
        return new Session($"{body}.{Convert.ToHexStringLower(HMACSHA256.HashData(key.Session, Encoding.UTF8.GetBytes(body)))}", key, id,
            DateTimeOffset.FromUnixTimeSeconds(issued.ToUnixTimeSeconds()) + _sessionLifetime);
    }

    /// <summary>The session a cookie holds; null when it is malformed, forged, for a key gone, expired or signed out.</summary>
    public Session? FromSession(string cookie)
    {
        // name.issued.id.mac: the name may hold dots, so the parts are read from the right.
        var macDot = cookie.LastIndexOf('.');
        var idDot = macDot > 0 ? cookie.LastIndexOf('.', macDot - 1) : -1;
        var issuedDot = idDot > 0 ? cookie.LastIndexOf('.', idDot - 1) : -1;
        if (issuedDot <= 0) return null;
        var body = cookie[..macDot];
        var name = cookie[..issuedDot];
        var id = cookie[(idDot + 1)..macDot];
        if (!long.TryParse(cookie.AsSpan(issuedDot + 1, idDot - issuedDot - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var issuedSeconds)
            || issuedSeconds > DateTimeOffset.MaxValue.ToUnixTimeSeconds() / 2) return null;
        byte[] mac;
        try
        {
            mac = Convert.FromHexString(cookie.AsSpan(macDot + 1));
        }
        catch (FormatException)
        {
            return null;
        }
        var key = Array.Find(_keys, k => k.Name == name) ?? Live(Runtime().ByName.GetValueOrDefault(name));
        if (key is null || !CryptographicOperations.FixedTimeEquals(mac, HMACSHA256.HashData(key.Session, Encoding.UTF8.GetBytes(body)))) return null;
        var issued = DateTimeOffset.FromUnixTimeSeconds(issuedSeconds);
        var now = _time.GetUtcNow();
        // Issued in the future (beyond a minute of clock skew between silos) is as suspect as expired.
        if (issued > now + TimeSpan.FromMinutes(1) || issued + _sessionLifetime <= now) return null;
        return _ring?.IsRevokedSession(id) == true ? null : new Session(cookie, key, id, issued + _sessionLifetime);
    }

    /// <summary>A pages' session: its cookie's value, its key, its id (what a sign-out revokes) and when it expires.</summary>
    public sealed record Session(string Cookie, Entry Key, string Id, DateTimeOffset ExpiresAt);

    private Entry? Live(Entry? key) => key?.ExpiresAt is { } expires && expires <= _time.GetUtcNow() ? null : key;

    /// <summary>The ring's keys as entries, made again only when its version moved (not per request).</summary>
    private RuntimeEntries Runtime()
    {
        var current = _runtime;
        if (_ring is null || _ring.Version == current.Version) return current;
        var snapshot = _ring.Snapshot;
        var entries = snapshot.Keys.Select(k => new Entry(k.Settings.Name, k.Hash, HMACSHA256.HashData(k.Hash, "kyros-session"u8), [.. k.Settings.Scopes],
            k.Settings.Rpm, k.Id, k.Settings.Models?.ToFrozenSet(StringComparer.Ordinal), k.Settings.ExpiresAt)).ToList();
        var built = new RuntimeEntries(snapshot.Version, entries.ToDictionary(e => Convert.ToHexString(e.Hash), StringComparer.Ordinal),
            entries.ToDictionary(e => e.Name, StringComparer.Ordinal));
        _runtime = built;
        return built;
    }

    private sealed record RuntimeEntries(long Version, Dictionary<string, Entry> ByHash, Dictionary<string, Entry> ByName);

    /// <param name="Id">A run-time key's id; null for a configured key.</param>
    /// <param name="Models">The models the key may call through the gateway; null for all.</param>
    public sealed record Entry(string Name, byte[] Hash, byte[] Session, HashSet<string> Scopes, int? RequestsPerMinute,
        string? Id = null, FrozenSet<string>? Models = null, DateTimeOffset? ExpiresAt = null)
    {
        /// <summary>A run-time key's account, which admits and pays for its gateway calls; null for a configured key.</summary>
        public KeyCaller? Caller { get; } = Id is null ? null : new KeyCaller(Id);
    }
}

/// <summary>The scope an endpoint needs beyond the default (GET: read; anything else: admin).</summary>
public sealed record RequiredScope(string Scope);

public static class ScopeEndpointExtensions
{
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredScope(scope));
}
