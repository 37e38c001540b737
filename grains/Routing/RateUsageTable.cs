namespace Kyros.Perf.Routing;

/// <summary>
/// Each silo's last report of its rate-limit use. A report counts for a minute, as the reservations in it do, so a silo
/// that stopped reporting (it left) counts until its last minute is over. Not thread-safe: one grain owns it.
/// </summary>
public sealed class RateUsageTable
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, (DateTimeOffset At, RateUsage[] Usage)> _silos = new(StringComparer.Ordinal);

    /// <summary>Keeps <paramref name="silo"/>'s report and answers the other silos' use summed per model, with the silos reporting.</summary>
    public RateUsageReport Exchange(string silo, RateUsage[] mine, DateTimeOffset now)
    {
        // Use is never negative (a report below nothing would lift every silo's limit), and an entry without a model is dropped.
        _silos[silo] = (now, [.. mine.Where(u => u?.Model is not null).Select(u => u with { Requests = Math.Max(0, u.Requests), Tokens = Math.Max(0, u.Tokens) })]);
        var others = new Dictionary<string, RateUsage>(StringComparer.Ordinal);
        foreach (var (name, (at, usage)) in _silos.ToArray())
        {
            if (now - at > Window) _silos.Remove(name);
            else if (name != silo)
                foreach (var u in usage)
                    others[u.Model] = others.TryGetValue(u.Model, out var sum)
                        ? new RateUsage(u.Model, (int)Math.Min(int.MaxValue, (long)sum.Requests + u.Requests), (long)Math.Min(long.MaxValue, (decimal)sum.Tokens + u.Tokens))
                        : u;
        }
        return new RateUsageReport(_silos.Count, [.. others.Values]);
    }
}
