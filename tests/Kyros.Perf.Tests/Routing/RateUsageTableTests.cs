using Kyros.Perf.Routing;

namespace Kyros.Perf.Tests.Routing;

public sealed class RateUsageTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_silo_hears_the_others_summed_and_a_silent_silo_counts_for_a_minute()
    {
        var table = new RateUsageTable();
        table.Exchange("a", [new RateUsage("m", 3, 30)], T0);
        table.Exchange("b", [new RateUsage("m", 4, 40), new RateUsage("n", 1, 10)], T0.AddSeconds(1));
        var c = table.Exchange("c", [], T0.AddSeconds(2));
        Assert.Equal(3, c.Silos);
        Assert.Equal([new RateUsage("m", 7, 70), new RateUsage("n", 1, 10)], c.Others.OrderBy(u => u.Model));
        // A silo never hears its own report back.
        Assert.Equal([new RateUsage("m", 3, 30)], table.Exchange("b", [new RateUsage("m", 4, 40), new RateUsage("n", 1, 10)], T0.AddSeconds(3)).Others);

        // a last reported at T0: a minute later it is gone; b and c still report.
        var later = table.Exchange("c", [], T0.AddSeconds(61));
        Assert.Equal(2, later.Silos);
        Assert.Equal([new RateUsage("m", 4, 40), new RateUsage("n", 1, 10)], later.Others.OrderBy(u => u.Model));
    }

    [Fact]
    public void Negative_or_nameless_reports_count_as_nothing_and_sums_saturate()
    {
        var table = new RateUsageTable();
        table.Exchange("a", [new RateUsage("m", -5, -50), null!, new RateUsage(null!, 1, 1)], T0);
        table.Exchange("b", [new RateUsage("m", int.MaxValue, long.MaxValue)], T0);
        table.Exchange("c", [new RateUsage("m", 1, 1)], T0);
        Assert.Equal(new RateUsage("m", int.MaxValue, long.MaxValue), table.Exchange("d", [], T0).Others.Single());
        Assert.Equal(new RateUsage("m", 1, 1), table.Exchange("b", [new RateUsage("m", 0, 0)], T0).Others.Single());
    }
}
