using Orleans.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Resources;

/// <summary>Once the silo is active, starts its own host's resource grain sampling (named by the silo's name).</summary>
public sealed class LocalHostSampling(IGrainFactory grains, IOptions<ResourceOptions> options, IOptions<SiloOptions> silo, ILogger<LocalHostSampling> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LocalHostSampling), ServiceLifecycleStage.Active, StartAsync, _ => Task.CompletedTask);

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.SampleLocalHost) return;
        var host = silo.Value.SiloName;
        try
        {
            ResourceValidator.RequireNodeName(host, "Kyros:HostName");
            if (!await grains.GetGrain<INodeResourceGrain>(host).StartSamplingAsync())
                logger.LogWarning("The resource grain of host {Host} is active on another silo, so this silo does not sample its host", host);
        }
        catch (ArgumentException e)
        {
            logger.LogWarning("This host is not sampled: {Reason}", e.Message);
        }
    }
}
