namespace Kyros.Perf.Keys;

/// <summary>The key directory's state: its version and the keys, packed with Orleans' serializer (hashes, never secrets).</summary>
[GenerateSerializer, Alias("kyros.ApiKeyDirectoryState")]
public sealed class ApiKeyDirectoryState
{
    [Id(0)] public long Version { get; set; }
    [Id(1)] public byte[]? PackedKeys { get; set; }
    /// <summary>Sessions signed out before their expiry: id, expiry.</summary>
    [Id(2)] public Dictionary<string, DateTimeOffset> RevokedSessions { get; set; } = [];

    [NonSerialized] internal List<ApiKeyRecord> Keys = [];
}
