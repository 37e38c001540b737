using Kyros.Perf.Keys;

namespace Kyros.Perf.Client;

/// <summary>
/// The cluster's run-time API keys: create (the secret is made here and returned this once; only its SHA-256 is sent),
/// list, read, update, read its usage and revoke. Every silo accepts a new key, and refuses a revoked one, within 2 s. Bad settings throw
/// <see cref="ArgumentException"/> naming the field as the HTTP API does; edits are never sent twice.
/// </summary>
public sealed partial class KyrosPerfClient
{
    private IApiKeyDirectoryGrain KeyDirectory => Cluster.GetGrain<IApiKeyDirectoryGrain>(0);

    /// <summary>Makes a key; <see cref="CreatedApiKey.Secret"/> is the only copy of its secret.</summary>
    public async Task<CreatedApiKey> CreateKeyAsync(ApiKeySettings settings)
    {
        var valid = ApiKeyValidator.Validate(settings, Time.GetUtcNow());
        var secret = ApiKeySecrets.Generate();
        var key = await Call(() => KeyDirectory.CreateAsync(ApiKeySecrets.Hash(secret), valid, Actor));
        return new CreatedApiKey(key, secret);
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListKeysAsync() => Retried(() => KeyDirectory.ListAsync());

    /// <summary>One key; null when the directory does not hold it (revoked, or never made).</summary>
    public Task<ApiKeyInfo?> GetKeyAsync(string id)
    {
        ApiKeyValidator.ValidateId(id);
        return Retried(() => KeyDirectory.GetAsync(id));
    }

    /// <summary>Replaces the key's settings (say <c>key.Settings with { Rpm = 60 }</c>); against <paramref name="expectedRevision"/> when given.</summary>
    public Task<ApiKeyInfo> UpdateKeyAsync(string id, ApiKeySettings settings, long? expectedRevision = null)
    {
        ApiKeyValidator.ValidateId(id);
        var valid = ApiKeyValidator.Validate(settings, Time.GetUtcNow());
        return Call(() => KeyDirectory.UpdateAsync(id, valid, expectedRevision, Actor));
    }

    /// <summary>
    /// The key's spend, requests and tokens in its current budget period, in all and per model (its account grain);
    /// <see cref="ApiKeyNotFoundException"/> when the directory does not hold the key (its account would answer for any id, with nothing spent).
    /// </summary>
    public async Task<KeyUsage> GetKeyUsageAsync(string id)
    {
        ApiKeyValidator.ValidateId(id);
        if (await GetKeyAsync(id) is null) throw new ApiKeyNotFoundException($"Key '{id}' is not in the key directory (revoked, or never made).");
        return await Retried(() => Cluster.GetGrain<IKeyAccountGrain>(id).GetUsageAsync());
    }

    /// <summary>Revokes the key; <see cref="ApiKeyNotFoundException"/> when the directory does not hold it.</summary>
    public Task<ApiKeyInfo> RevokeKeyAsync(string id)
    {
        ApiKeyValidator.ValidateId(id);
        return Call(() => KeyDirectory.RevokeAsync(id, Actor));
    }
}
