using Kyros.Perf.Client;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Demo;

/// <summary>
/// <c>Kyros:Demo=true</c>: once the silo serves, it drives <see cref="DemoTraffic"/> through its own gateway, so that a
/// newcomer's pages, dashboard and alerts come alive. Simulated models and hosts only; said in the log and on every page.
/// </summary>
/// <remarks>Registered only when <c>Kyros:Demo</c> is true.</remarks>
public sealed class DemoService(KyrosPerfClient client, IHostApplicationLifetime lifetime, DemoSettings settings, ILogger<DemoService> logger) : BackgroundService
{
    public const string Section = "Kyros:DemoTraffic";

    /// <summary>Kyros:DemoTraffic (GenerationsPerSecond, SampleInterval, HeatCycle, Seed; defaults in <see cref="DemoSettings"/>), checked at start.</summary>
    public static DemoSettings ReadSettings(IConfiguration configuration)
    {
        var settings = configuration.GetSection(Section).Get<DemoSettings>() ?? new DemoSettings();
        try
        {
            settings.Validate();
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new OptionsValidationException(Section, typeof(DemoSettings), [$"{Section}:{e.ParamName}: {e.Message}"]);
        }
        return settings;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Only once the silo and its HTTP port serve: the catalog and the gateway are ready then.
        var started = new TaskCompletionSource();
        using var _ = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        try
        {
            await started.Task.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        logger.LogWarning("Demo mode (Kyros:Demo): driving SIMULATED traffic through the gateway to the catalog's simulated models, " +
                          "and simulated hosts {Hosts} (group {Group}). Turn it off for real use.", string.Join(", ", DemoTraffic.Hosts), DemoTraffic.HostGroup);
        await new DemoTraffic(client, TimeProvider.System).RunAsync(settings, stoppingToken);
    }
}
