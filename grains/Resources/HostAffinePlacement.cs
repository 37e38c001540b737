using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Kyros.Perf.Resources;

/// <summary>
/// Places a grain keyed by a host name on the silo whose name is that host (<c>Kyros:HostName</c>), so a host's
/// resource grain samples the machine it runs on. A host without a silo gets the calling silo, as prefer-local does.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.HostAffinePlacement")]
public sealed class HostAffinePlacement : PlacementStrategy
{
    public static readonly HostAffinePlacement Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class HostAffinePlacementAttribute() : PlacementAttribute(HostAffinePlacement.Instance);

public sealed class HostAffinePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        var host = target.GrainIdentity.Key.ToString();
        var members = membership.CurrentSnapshot.Members;
        foreach (var silo in silos)
            if (members.TryGetValue(silo, out var member) && string.Equals(member.Name, host, StringComparison.OrdinalIgnoreCase))
                return Task.FromResult(silo);
        return Task.FromResult(silos.Contains(context.LocalSilo) ? context.LocalSilo : silos[Random.Shared.Next(silos.Length)]);
    }
}
