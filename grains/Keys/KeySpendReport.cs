namespace Kyros.Perf.Keys;

/// <summary>Every run-time key's use in its period, read from each key's account at once: for the summary, the metrics and the pages.</summary>
public static class KeySpendReport
{
    public static async Task<IReadOnlyList<KeySpend>> ReadAsync(IGrainFactory grains, ApiKeyRing ring)
    {
        var keys = ring.Snapshot.Keys;
        if (keys.Count == 0) return [];
        var usage = await UsageOfAsync(grains, keys.Select(k => k.Id));
        return [.. keys.Select((k, i) => new KeySpend(k.Id, k.Settings.Name, usage[i])).OrderBy(k => k.Name, StringComparer.Ordinal)];
    }

    /// <summary>Each key's use, in the order of <paramref name="ids"/>, every account asked at once.</summary>
    public static Task<KeyUsage[]> UsageOfAsync(IGrainFactory grains, IEnumerable<string> ids) =>
        Task.WhenAll(ids.Select(id => grains.GetGrain<IKeyAccountGrain>(id).GetUsageAsync()));
}
