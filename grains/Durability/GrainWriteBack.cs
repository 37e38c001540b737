using Orleans.Runtime;
using Orleans.Serialization.TypeSystem;

namespace Kyros.Perf.Durability;

/// <summary>
/// Asks every grain activation on this silo that keeps state in Redis (<see cref="IStateWriteBack"/>) to write it all
/// again under the new epoch. The activations come from Orleans' own list of this silo's grains, so a grain that
/// deactivated meanwhile is not woken (it wrote its state as it went).
/// </summary>
public sealed class GrainWriteBack(IGrainFactory grains, ILocalSiloDetails silo) : IRedisLossRepair
{
    private const int InParallel = 32;

    private static readonly string[] StatefulTypes = typeof(GrainWriteBack).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IStateWriteBack).IsAssignableFrom(t))
        .Select(RuntimeTypeNameFormatter.Format)
        .ToArray();

    public string Name => "grain state";

    public async Task RepairAsync(string epoch, CancellationToken cancellationToken)
    {
        var live = await grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics(StatefulTypes, [silo.SiloAddress]);
        await Parallel.ForEachAsync(live, new ParallelOptions { MaxDegreeOfParallelism = InParallel, CancellationToken = cancellationToken },
            async (grain, _) => await grains.GetGrain<IStateWriteBack>(grain.GrainId).WriteBackAsync(epoch));
    }
}
