using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Keys;

/// <summary>
/// The cluster's run-time keys. Thin: <see cref="ApiKeyBook"/> decides each change; this stores it before answering,
/// hands it to this silo's <see cref="ApiKeyRing"/> and to the silos waiting for a newer version, and logs it (the key's
/// id and name, never its secret or hash). Names of the keys configured on its silo (<c>Kyros:Auth:Keys</c>) are taken.
/// </summary>
public sealed class ApiKeyDirectoryGrain(
    [PersistentState("keys", KyrosStorage.Name)] IPersistentState<ApiKeyDirectoryState> state,
    ApiKeyRing ring,
    ModelCatalog catalog,
    IOptions<KeyDirectoryOptions> options,
    Orleans.Serialization.Serializer<List<ApiKeyRecord>> packer,
    TimeProvider time,
    ILogger<ApiKeyDirectoryGrain> logger) : Grain, IApiKeyDirectoryGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private ApiKeyBook _book = null!;
    // What is served: the directory as last stored, never a change whose write has not finished.
    private ApiKeySnapshot _stored = null!;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.PackedKeys is { } packed) state.State.Keys = packer.Deserialize(packed) ?? [];
        _book = new ApiKeyBook(state.State, options.Value.ConfiguredNames, options.Value.MaxKeys);
        if (_book.Version == 0 && ring.Version > 0)
        {
            // Nothing stored, yet this silo followed a stored directory: the store lost it. Its copy comes back.
            _book.Restore(ring.Snapshot);
            logger.LogWarning("The stored key directory is gone (Redis lost its data?): {Count} keys taken back from this silo's copy at version {Version}",
                ring.Snapshot.Keys.Count, ring.Version);
            state.State.PackedKeys = packer.SerializeToArray(state.State.Keys);
            await state.WriteStateAsync(cancellationToken);
        }
        _stored = _book.Snapshot;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _changed.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task<ApiKeySnapshot?> WaitForNewerAsync(long version, TimeSpan maxWait)
    {
        if (maxWait < TimeSpan.Zero || maxWait > TimeSpan.FromSeconds(20)) throw new ArgumentException("maxWait must be within 0..20 s.", nameof(maxWait));
        if (_stored.Version <= version && maxWait > TimeSpan.Zero) await Task.WhenAny(_changed.Task, Task.Delay(maxWait));
        return _stored.Version > version ? _stored : null;
    }

    public async Task<ApiKeyInfo> CreateAsync(byte[] hash, ApiKeySettings settings, string actor)
    {
        var key = _book.Create(hash, settings, RequireActor(actor), time.GetUtcNow(), catalog.Contains);
        await PersistAsync("created", key, actor);
        return key.Info;
    }

    public Task<IReadOnlyList<ApiKeyInfo>> ListAsync() => Task.FromResult<IReadOnlyList<ApiKeyInfo>>([.. _stored.Keys.Select(k => k.Info)]);

    public Task<ApiKeyInfo?> GetAsync(string id) => Task.FromResult(_stored.Keys.FirstOrDefault(k => k.Id == id)?.Info);

    public async Task<ApiKeyInfo> UpdateAsync(string id, ApiKeySettings settings, long? expectedRevision, string actor)
    {
        var key = _book.Update(id, settings, expectedRevision, time.GetUtcNow(), catalog.Contains);
        await PersistAsync("updated", key, RequireActor(actor));
        return key.Info;
    }

    public async Task<ApiKeyInfo> RevokeAsync(string id, string actor)
    {
        RequireActor(actor);
        var key = _book.Revoke(id);
        await PersistAsync("revoked", key, actor);
        return key.Info;
    }

    public async Task RevokeSessionAsync(string sessionId, DateTimeOffset expiresAt)
    {
        var version = _book.Version;
        _book.RevokeSession(sessionId, expiresAt, time.GetUtcNow());
        if (_book.Version != version) await PersistAsync($"revoked session {sessionId[..8]}… until {expiresAt:u}");
    }

    private static string RequireActor(string actor) =>
        string.IsNullOrWhiteSpace(actor) || actor.Length > 200 ? throw new ArgumentException("actor must be 1-200 characters.", "actor") : actor;

    /// <summary>Stored first (an answer means the change holds), then this silo's ring, the waiting silos and the log.</summary>
    private Task PersistAsync(string action, ApiKeyRecord key, string actor) => PersistAsync($"{action} key {key.Id} ({key.Settings.Name}) by {actor}");

    private async Task PersistAsync(string change)
    {
        try
        {
            state.State.PackedKeys = packer.SerializeToArray(state.State.Keys);
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored: the next activation reads the stored keys, so this one must not serve the change.
            DeactivateOnIdle();
            throw;
        }
        _stored = _book.Snapshot;
        ring.Apply(_stored);
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
        logger.LogInformation("Keys v{Version}: {Change}", _stored.Version, change);
    }
}
