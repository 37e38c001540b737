using Kyros.Perf.Keys;
using Kyros.Perf.Silo.Auth;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Auth;

/// <summary>The run-time key directory in a two-silo cluster on Redis, through the SDK: its rules, hashing, versions, revocation and expiry.</summary>
public sealed class ApiKeyDirectoryTests(RedisServer redis)
{
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Keys_are_validated_stored_as_hashes_reach_every_silo_and_are_forgotten_when_revoked_or_expired()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 2, time: time, settings: new Dictionary<string, string?>
        {
            ["Kyros:Auth:Keys:0:Name"] = "ops", ["Kyros:Auth:Keys:0:Key"] = "operator-key-0123456789abcdef", ["Kyros:Auth:Keys:0:Scopes:0"] = "admin",
        });
        var client = cluster.Client;
        var directory = cluster.Cluster.Client.GetGrain<IApiKeyDirectoryGrain>(0);
        var start = (await directory.WaitForNewerAsync(-1, TimeSpan.Zero))!.Version;
        var good = new ApiKeySettings { Name = "team-a", Scopes = ["read", "write"], Models = ["gpt-4"], BudgetUsd = 25, Rpm = 60, Tpm = 100_000 };

        // Each broken rule names its field, and nothing is stored.
        foreach (var (bad, field) in new (ApiKeySettings, string)[]
                 {
                     (good with { Name = "" }, "name"),
                     (good with { Name = "has space" }, "name"),
                     (good with { Scopes = [] }, "scopes"),
                     (good with { Scopes = ["read", "root"] }, "scopes"),
                     (good with { Models = [] }, "models"),
                     (good with { Models = ["gpt-4", "gpt-4"] }, "models"),
                     (good with { Models = ["no-such-model"] }, "models"),
                     (good with { BudgetUsd = -1 }, "budget_usd"),
                     (good with { BudgetPeriod = "week" }, "budget_period"),
                     (good with { BudgetUsd = null, BudgetPeriod = "day" }, "budget_period"),
                     (good with { Rpm = 0 }, "rpm"),
                     (good with { Tpm = -5 }, "tpm"),
                     (good with { ExpiresAt = time.GetUtcNow().AddSeconds(-1) }, "expires_at"),
                 })
            Assert.Equal(field, (await Assert.ThrowsAnyAsync<ArgumentException>(() => client.CreateKeyAsync(bad))).ParamName);
        await Assert.ThrowsAsync<ApiKeyNameTakenException>(() => client.CreateKeyAsync(good with { Name = "ops" }));
        Assert.Empty(await client.ListKeysAsync());
        Assert.Null(await directory.WaitForNewerAsync(start, TimeSpan.Zero));

        // Made: the secret is 32 random bytes after kp-, the directory holds only its SHA-256, and the budget's period defaults to month.
        var created = await client.CreateKeyAsync(good with { ExpiresAt = time.GetUtcNow().AddHours(1) });
        Assert.StartsWith(ApiKeySecrets.Prefix, created.Secret);
        Assert.Equal(32, Convert.FromBase64String(Base64(created.Secret[ApiKeySecrets.Prefix.Length..])).Length);
        Assert.Equal("month", created.Key.Settings.BudgetPeriod);
        Assert.Equal(100_000, created.Key.Settings.Tpm);
        var snapshot = (await directory.WaitForNewerAsync(start, TimeSpan.Zero))!;
        Assert.Equal(start + 1, snapshot.Version);
        var stored = Assert.Single(snapshot.Keys);
        Assert.Equal(ApiKeySecrets.Hash(created.Secret), stored.Hash);
        Assert.Null(await directory.WaitForNewerAsync(snapshot.Version, TimeSpan.Zero));
        await Assert.ThrowsAsync<ApiKeyNameTakenException>(() => client.CreateKeyAsync(good));
        Assert.NotEqual(created.Secret, (await client.CreateKeyAsync(good with { Name = "team-b" })).Secret);

        // Every silo finds it by its secret, within propagation; a wrong secret finds nothing.
        var keys = Silos(cluster).Select(s => new ApiKeys(Options.Create(new AuthOptions()), s.GetRequiredService<ApiKeyRing>(), time)).ToList();
        foreach (var silo in keys)
        {
            var entry = await Eventually.UntilAsync(() => Task.FromResult(silo.Find(created.Secret)), e => e is not null, Propagation);
            Assert.Equal("team-a", entry!.Name);
            Assert.Equal(["gpt-4"], entry.Models!);
            Assert.Equal(60, entry.RequestsPerMinute);
            Assert.Null(silo.Find(created.Secret + "x"));
        }

        // Updates: against a stale revision refused; the new settings reach every silo.
        await Assert.ThrowsAsync<ApiKeyRevisionException>(() => client.UpdateKeyAsync(created.Key.Id, created.Key.Settings with { Rpm = 5 }, created.Key.Revision - 1));
        Assert.Equal("rpm", (await Assert.ThrowsAnyAsync<ArgumentException>(() => client.UpdateKeyAsync(created.Key.Id, created.Key.Settings with { Rpm = -1 }))).ParamName);
        var updated = await client.UpdateKeyAsync(created.Key.Id, created.Key.Settings with { Rpm = 5, Models = null }, created.Key.Revision);
        Assert.True(updated.Revision > created.Key.Revision);
        foreach (var silo in keys)
            await Eventually.UntilAsync(() => Task.FromResult(silo.Find(created.Secret)), e => e is { RequestsPerMinute: 5, Models: null }, Propagation);

        // Expiry: refused on every silo once its time has passed, with no change stored.
        time.Advance(TimeSpan.FromHours(1));
        Assert.All(keys, silo => Assert.Null(silo.Find(created.Secret)));
        Assert.NotNull(await client.GetKeyAsync(created.Key.Id));

        // Revoked: gone from the directory and from every silo; revoking it again is unknown.
        Assert.Equal("team-a", (await client.RevokeKeyAsync(created.Key.Id)).Settings.Name);
        Assert.Null(await client.GetKeyAsync(created.Key.Id));
        await Assert.ThrowsAsync<ApiKeyNotFoundException>(() => client.RevokeKeyAsync(created.Key.Id));
        foreach (var silo in Silos(cluster))
            await Eventually.UntilAsync(() => Task.FromResult(silo.GetRequiredService<ApiKeyRing>().Find(ApiKeySecrets.Hash(created.Secret))), e => e is null, Propagation);
        Assert.Equal(["team-b"], (await client.ListKeysAsync()).Select(k => k.Settings.Name));
    }

    [Fact]
    public async Task Updates_and_usage_reads_name_the_bad_parameter_and_usage_follows_the_keys_budget()
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 1);
        var client = cluster.Client;
        var created = (await client.CreateKeyAsync(new ApiKeySettings { Name = "team-usage", Scopes = ["write"], BudgetUsd = 25 })).Key;

        foreach (var (call, field) in new (Func<Task>, string)[]
                 {
                     (() => client.UpdateKeyAsync("", created.Settings), "id"),
                     (() => client.UpdateKeyAsync(new string('k', 65), created.Settings), "id"),
                     (() => client.UpdateKeyAsync(created.Id, null!), "body"),
                     (() => client.UpdateKeyAsync(created.Id, created.Settings with { BudgetUsd = -1 }), "budget_usd"),
                     (() => client.UpdateKeyAsync(created.Id, created.Settings with { BudgetPeriod = "week" }), "budget_period"),
                     (() => client.UpdateKeyAsync(created.Id, created.Settings with { Tpm = 0 }), "tpm"),
                     (() => client.UpdateKeyAsync(created.Id, created.Settings with { Models = ["no-such-model"] }), "models"),
                     (() => client.GetKeyUsageAsync(""), "id"),
                     (() => client.GetKeyUsageAsync(" "), "id"),
                     (() => client.GetKeyUsageAsync(new string('k', 65)), "id"),
                 })
            Assert.Equal(field, (await Assert.ThrowsAnyAsync<ArgumentException>(call)).ParamName);
        Assert.Equal(created.Revision, (await client.GetKeyAsync(created.Id))!.Revision);
        await Assert.ThrowsAsync<ApiKeyNotFoundException>(() => client.GetKeyUsageAsync("key_0000000000000000"));
        await Assert.ThrowsAsync<ApiKeyNotFoundException>(() => client.UpdateKeyAsync("key_0000000000000000", created.Settings));

        // Nothing spent yet: the whole budget remains, by calendar month.
        var usage = await client.GetKeyUsageAsync(created.Id);
        Assert.Equal(("month", 25.0, 0.0, 25.0, 0L), (usage.Period, usage.BudgetUsd, usage.SpendUsd, usage.RemainingUsd, usage.Requests));
        Assert.Empty(usage.Models);

        // A budget changed to a day's: the usage counts by day against the new budget.
        await client.UpdateKeyAsync(created.Id, created.Settings with { BudgetUsd = 10, BudgetPeriod = "day" });
        usage = await Eventually.UntilAsync(() => client.GetKeyUsageAsync(created.Id), u => u.Period == "day", Propagation);
        Assert.Equal((10.0, 10.0), (usage.BudgetUsd, usage.RemainingUsd));
        Assert.Equal(usage.PeriodStart.AddDays(1), usage.PeriodEnd);

        await client.RevokeKeyAsync(created.Id);
        await Assert.ThrowsAsync<ApiKeyNotFoundException>(() => client.GetKeyUsageAsync(created.Id));
    }

    private static IEnumerable<IServiceProvider> Silos(KyrosTestCluster cluster) =>
        cluster.Cluster.Silos.Cast<Orleans.TestingHost.InProcessSiloHandle>().Select(s => s.ServiceProvider);

    private static string Base64(string url)
    {
        var text = url.Replace('-', '+').Replace('_', '/');
        return text + new string('=', (4 - text.Length % 4) % 4);
    }
}
