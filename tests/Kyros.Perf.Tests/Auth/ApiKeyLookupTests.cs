using Kyros.Perf.Keys;
using Kyros.Perf.Silo.Auth;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Auth;

/// <summary>A presented key's lookup on the request path: the right key among many, none for a near miss, and expiry at its instant.</summary>
public sealed class ApiKeyLookupTests
{
    [Fact]
    public void Ten_thousand_run_time_keys_are_each_found_by_their_secret_and_a_stale_version_changes_nothing()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var secrets = Enumerable.Range(0, 10_000).Select(_ => ApiKeySecrets.Generate()).ToArray();
        var ring = new ApiKeyRing();
        Assert.True(ring.Apply(new ApiKeySnapshot(7, [.. secrets.Select((s, i) => new ApiKeyRecord
        {
            Id = $"key_{i:x16}", Hash = ApiKeySecrets.Hash(s), Settings = new ApiKeySettings { Name = $"k{i}", Scopes = ["read"], ExpiresAt = i == 0 ? time.GetUtcNow().AddMinutes(1) : null },
        })])));
        Assert.False(ring.Apply(new ApiKeySnapshot(6, [])));
        var keys = new ApiKeys(Options.Create(new AuthOptions
        {
            Keys = [new Silo.Auth.ApiKeyOptions { Name = "ops", Key = "operator-key-0123456789abcdef", Scopes = ["admin"] }],
        }), ring, time);

        Assert.Equal("ops", keys.Find("operator-key-0123456789abcdef")!.Name);
        for (var i = 0; i < secrets.Length; i += 997) Assert.Equal($"k{i}", keys.Find(secrets[i])!.Name);
        Assert.Null(keys.Find(secrets[1][..^1]));
        Assert.Equal($"k{1}", keys.FromSession(keys.NewSession(keys.Find(secrets[1])!).Cookie)!.Key.Name);

        // Every one of them, the configured key's constant-time compare included on each lookup.
        for (var i = 1; i < secrets.Length; i++) Assert.Equal($"k{i}", keys.Find(secrets[i])?.Name);

        // Expired: refused from that instant, by the key and by its session.
        var session = keys.NewSession(keys.Find(secrets[0])!).Cookie;
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Null(keys.Find(secrets[0]));
        Assert.Null(keys.FromSession(session));
    }

    [Fact]
    public void A_key_directory_the_store_lost_comes_back_from_a_silos_ring_with_its_keys_and_revoked_sessions()
    {
        var now = DateTimeOffset.UtcNow;
        var book = new ApiKeyBook(new ApiKeyDirectoryState(), new HashSet<string>(), 100);
        var secret = ApiKeySecrets.Generate();
        var key = book.Create(ApiKeySecrets.Hash(secret), new ApiKeySettings { Name = "team-a", Scopes = ["write"] }, "ops", now, _ => true);
        book.RevokeSession("ab12", now.AddHours(1), now);
        var ring = new ApiKeyRing();
        Assert.True(ring.Apply(book.Snapshot));

        var restored = new ApiKeyBook(new ApiKeyDirectoryState(), new HashSet<string>(), 100);
        restored.Restore(ring.Snapshot);
        Assert.Equal(book.Version + 1, restored.Version);
        Assert.Equal(key.Id, Assert.Single(restored.Snapshot.Keys).Id);
        Assert.True(ring.Apply(restored.Snapshot));
        Assert.True(ring.IsRevokedSession("ab12"));
        Assert.NotNull(ring.Find(ApiKeySecrets.Hash(secret)));
        Assert.Throws<InvalidOperationException>(() => restored.Restore(ring.Snapshot));
    }
}
