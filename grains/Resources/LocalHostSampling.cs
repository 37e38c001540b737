using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Kyros.Perf.Resources;

/// <summary>
/// Once the silo is active, starts its own host's resource grain sampling (named by the silo's name), and keeps trying
/// while the grain is active elsewhere (it was called while this silo was away) until it has moved here.
/// </summary>
public sealed class LocalHostSampling(IGrainFactory grains, IOptions<ResourceOptions> options, IOptions<SiloOptions> silo, ILogger<LocalHostSampling> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(LocalHostSampling), ServiceLifecycleStage.Active, Start, Stop);

    private Task Start(CancellationToken cancellationToken)
    {
        if (options.Value.SampleLocalHost) _ = KeepStartedAsync(_stopping.Token);
        return Task.CompletedTask;
    }

    private Task Stop(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        return Task.CompletedTask;
    }

    private async Task KeepStartedAsync(CancellationToken stopping)
    {
        var host = silo.Value.SiloName;
        try
        {
            ResourceValidator.RequireNodeName(host, "Kyros:HostName");
        }
        catch (ArgumentException e)
        {
            logger.LogWarning("This host is not sampled: {Reason}", e.Message);
            return;
        }
        for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                if (await grains.GetGrain<INodeResourceGrain>(host).StartSamplingAsync()) return;
                if (attempt == 1) logger.LogInformation("The resource grain of host {Host} is active on another silo; it is moving here", host);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                logger.LogWarning("Starting the sampling of host {Host} failed (try {Attempt}): {Reason}", host, attempt, e.Message);
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, attempt)), stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
