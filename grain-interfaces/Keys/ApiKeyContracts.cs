using System.Security.Cryptography;
using System.Text;

namespace Kyros.Perf.Keys;

/// <summary>
/// What an API key made at run time may do: the fields an operator sets (and changes). Its budget, requests and tokens a
/// minute hold across the cluster through its account (<see cref="IKeyAccountGrain"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ApiKeySettings")]
public sealed record ApiKeySettings
{
    /// <summary>Shown and logged as who made a change; unique among the cluster's keys and the configured ones.</summary>
    [Id(0)] public required string Name { get; init; }
    /// <summary>Some of <see cref="ApiKeyScopes.All"/>.</summary>
    [Id(1)] public required IReadOnlyList<string> Scopes { get; init; }
    /// <summary>The catalog models the key may call through the gateway (and <c>auto</c> routes among); null for all.</summary>
    [Id(2)] public IReadOnlyList<string>? Models { get; init; }
    /// <summary>Spend allowed per <see cref="BudgetPeriod"/>, in the catalog's currency (US dollars).</summary>
    [Id(3)] public double? BudgetUsd { get; init; }
    /// <summary><c>day</c>, <c>month</c> or <c>total</c>; with a budget and none given, <c>month</c>.</summary>
    [Id(4)] public string? BudgetPeriod { get; init; }
    /// <summary>Calls to models a minute across the cluster (and HTTP requests a minute on each silo); null for no limit.</summary>
    [Id(5)] public int? Rpm { get; init; }
    /// <summary>Tokens a minute across the cluster (each call's worst case until it settles); null for no limit.</summary>
    [Id(6)] public long? Tpm { get; init; }
    /// <summary>After this the key is refused; null for never.</summary>
    [Id(7)] public DateTimeOffset? ExpiresAt { get; init; }
}

/// <summary>
/// A stored run-time key: its settings and the SHA-256 hash of its secret. The secret itself is never stored, logged or
/// shown after it was made; the hash is only for the silos' lookup and is never shown either.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ApiKeyRecord")]
public sealed record ApiKeyRecord
{
    [Id(0)] public required string Id { get; init; }
    [Id(1)] public required byte[] Hash { get; init; }
    [Id(2)] public required ApiKeySettings Settings { get; init; }
    [Id(3)] public DateTimeOffset CreatedAt { get; init; }
    [Id(4)] public string CreatedBy { get; init; } = "";
    [Id(5)] public DateTimeOffset UpdatedAt { get; init; }
    /// <summary>The directory's version at the key's last change: what an update may be made against.</summary>
    [Id(6)] public long Revision { get; init; }

    public ApiKeyInfo Info => new(Id, Settings, CreatedAt, CreatedBy, UpdatedAt, Revision);

    public bool ExpiredAt(DateTimeOffset now) => Settings.ExpiresAt is { } expires && expires <= now;
}

/// <summary>A run-time key as it is shown: everything but the secret and its hash.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ApiKeyInfo")]
public sealed record ApiKeyInfo(
    [property: Id(0)] string Id,
    [property: Id(1)] ApiKeySettings Settings,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] string CreatedBy,
    [property: Id(4)] DateTimeOffset UpdatedAt,
    [property: Id(5)] long Revision);

/// <summary>A key just made: its record and, this once, its secret.</summary>
public sealed record CreatedApiKey(ApiKeyInfo Key, string Secret);

/// <summary>
/// Every run-time key at one version of the directory: what each silo looks presented keys up in. Also the pages'
/// sessions signed out before their expiry (id and expiry), which every silo refuses.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ApiKeySnapshot")]
public sealed record ApiKeySnapshot([property: Id(0)] long Version, [property: Id(1)] IReadOnlyList<ApiKeyRecord> Keys,
    [property: Id(2)] IReadOnlyDictionary<string, DateTimeOffset>? RevokedSessions = null);

public static class ApiKeyScopes
{
    public const string Read = "read", Write = "write", Admin = "admin";
    public static readonly IReadOnlyList<string> All = [Read, Write, Admin];
}

public static class BudgetPeriods
{
    public const string Day = "day", Month = "month", Total = "total";
    public static readonly IReadOnlyList<string> All = [Day, Month, Total];
}

/// <summary>Making and hashing secrets: 32 random bytes, base64url, after <see cref="Prefix"/>.</summary>
public static class ApiKeySecrets
{
    public const string Prefix = "kp-";

    public static string Generate() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}

/// <summary>An id the directory does not hold (HTTP 404 naming <c>id</c>).</summary>
[GenerateSerializer, Alias("kyros.ApiKeyNotFoundException")]
public sealed class ApiKeyNotFoundException(string message) : Exception(message);

/// <summary>A name another key has (HTTP 409 naming <c>name</c>).</summary>
[GenerateSerializer, Alias("kyros.ApiKeyNameTakenException")]
public sealed class ApiKeyNameTakenException(string message) : Exception(message);

/// <summary>An update made against a revision that is no longer the key's (HTTP 412 naming <c>If-Match</c>).</summary>
[GenerateSerializer, Alias("kyros.ApiKeyRevisionException")]
public sealed class ApiKeyRevisionException(string message) : Exception(message);
