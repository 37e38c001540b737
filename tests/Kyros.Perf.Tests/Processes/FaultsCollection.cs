namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// The tests that measure faults on several silo processes (kills, a frozen Redis, partitions, rate limits across
/// silos) run one at a time and alone: their bounds are on seconds, and 2 shared cores would stretch them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FaultsCollection
{
    public const string Name = "faults on silo processes";
}
