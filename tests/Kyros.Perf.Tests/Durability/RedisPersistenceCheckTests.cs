using Kyros.Perf.Durability;

namespace Kyros.Perf.Tests.Durability;

public sealed class RedisPersistenceCheckTests
{
    [Theory]
    [InlineData("1", "everysec", null)]
    [InlineData("1", "always", null)]
    [InlineData("1", null, null)]
    [InlineData("1", "no", false)]
    [InlineData(null, "everysec", false)]
    [InlineData("0", "everysec", true)]
    [InlineData("0", null, true)]
    public void Only_a_redis_without_an_aof_stops_a_production_silo_and_an_unflushed_or_unknown_one_is_warned_of(string? aofEnabled, string? appendFsync, bool? fatal)
    {
        var problem = RedisPersistenceCheck.Problem(aofEnabled, appendFsync);
        Assert.Equal(fatal, problem?.Fatal);
        if (problem is not null) Assert.NotEmpty(problem.Text);
    }
}
