using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// The configured keys, held as SHA-256 hashes and compared in constant time (every key is compared, whichever matches),
/// so neither a key's content nor its length leaks through timing. Also the pages' session cookie: the key's name and an
/// HMAC under the key, so a cookie never holds the key and dies with it.
/// </summary>
public sealed class ApiKeys
{
    private readonly Entry[] _keys;

    public ApiKeys(IOptions<AuthOptions> options) =>
        _keys = [.. options.Value.Keys.Select(k => new Entry(k.Name, SHA256.HashData(Encoding.UTF8.GetBytes(k.Key)),
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(k.Key), "kyros-session"u8), [.. k.Scopes], k.RequestsPerMinute))];

    public bool Enabled => _keys.Length > 0;

    public Entry? Find(string presented)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        Entry? found = null;
        foreach (var key in _keys)
            if (CryptographicOperations.FixedTimeEquals(hash, key.Hash)) found = key;
        return found;
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
        var key = Array.Find(_keys, k => k.Name == name);
        return key is not null && CryptographicOperations.FixedTimeEquals(mac, key.Session) ? key : null;
    }

    public sealed record Entry(string Name, byte[] Hash, byte[] Session, HashSet<string> Scopes, int? RequestsPerMinute);
}

/// <summary>The scope an endpoint needs beyond the default (GET: read; anything else: admin).</summary>
public sealed record RequiredScope(string Scope);

public static class ScopeEndpointExtensions
{
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new RequiredScope(scope));
}
