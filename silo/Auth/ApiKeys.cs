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
/// key's name and an HMAC under the key (a run-time key's: under its stored hash), so a cookie never holds the key and
/// dies with it.
/// </summary>
public sealed class ApiKeys
{
    private readonly Entry[] _keys;
    private readonly ApiKeyRing? _ring;
    private readonly TimeProvider _time;
    private volatile RuntimeEntries _runtime = new(-1, [], []);

    public ApiKeys(IOptions<AuthOptions> options, ApiKeyRing? ring = null, TimeProvider? time = null)
    {
        _keys = [.. options.Value.Keys.Select(k => new Entry(k.Name, SHA256.HashData(Encoding.UTF8.GetBytes(k.Key)),
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(k.Key), "kyros-session"u8), [.. k.Scopes], k.RequestsPerMinute))];
        (_ring, _time) = (ring, time ?? TimeProvider.System);
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

    public string SessionOf(Entry key) => $"{key.Name}.{Convert.ToHexStringLower(key.Session)}";

    public Entry? FromSession(string cookie)
    {
        var dot = cookie.LastIndexOf('.');
        if (dot <= 0) return null;
        var name = cookie[..dot];
        byte[] mac;
        try
        {
            mac = Convert.FromHexString(cookie.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return null;
        }
        var key = Array.Find(_keys, k => k.Name == name) ?? Live(Runtime().ByName.GetValueOrDefault(name));
        return key is not null && CryptographicOperations.FixedTimeEquals(mac, key.Session) ? key : null;
    }

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
