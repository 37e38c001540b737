using System.CommandLine;
using Kyros.Perf.Client;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary><c>kyros-perf demo</c>: simulated traffic through the cluster's gateway, for a first look at the pages and the dashboard.</summary>
public static class DemoCommand
{
    public static Command Demo()
    {
        var rate = new Option<double>("--rate")
        {
            Description = "Generations per second, across the catalog's simulated models", HelpName = "per-second", DefaultValueFactory = _ => 4, CustomParser = Cli.Number<double>,
        };
        var duration = new Option<double?>("--duration")
        {
            Description = "Stop after this many seconds (default: go on until Ctrl+C)", HelpName = "seconds", CustomParser = Cli.OptionalNumber<double>,
        };
        var heat = new Option<double>("--heat-cycle")
        {
            Description = "Seconds in one heat cycle of the simulated hot GPU host (it raises alerts as it warms)", HelpName = "seconds",
            DefaultValueFactory = _ => 180, CustomParser = Cli.Number<double>,
        };
        var command = new Command("demo",
            "Drive SIMULATED traffic (the catalog's simulated models only) and two simulated GPU hosts, so that the pages, the dashboard and the alerts come alive")
            { rate, duration, heat };
        return command.SetClusterAction(parse =>
        {
            var seconds = parse.GetValue(duration);
            if (seconds is <= 0 or > 86_400) throw new ArgumentException("--duration must be within 0..86400 seconds.");
            var settings = new DemoSettings { GenerationsPerSecond = parse.GetValue(rate), HeatCycle = TimeSpan.FromSeconds(parse.GetValue(heat)) };
            try
            {
                settings.Validate();
            }
            catch (ArgumentOutOfRangeException e)
            {
                throw new ArgumentException($"{(e.ParamName == nameof(DemoSettings.HeatCycle) ? "--heat-cycle" : "--rate")}: {e.Message}");
            }
            return async (client, cancellationToken) =>
            {
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (seconds is { } s) stop.CancelAfter(TimeSpan.FromSeconds(s));
                var demo = new DemoTraffic(client, TimeProvider.System);
                AnsiConsole.MarkupLine("[yellow]Demo: simulated traffic to the catalog's simulated models, and simulated hosts " +
                                       $"{string.Join(", ", DemoTraffic.Hosts)}.[/] Open the pages at /ui. Ctrl+C stops it.");
                var run = demo.RunAsync(settings, stop.Token);
                while (!run.IsCompleted)
                {
                    await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
                    Report(demo.Progress);
                }
                await run;
                if (demo.Progress.Models.Count == 0) throw new ArgumentException("The catalog has no model on the simulated provider: the demo calls no real model.");
            };
        });
    }

    private static void Report(DemoProgress p) => AnsiConsole.MarkupLineInterpolated(
        $"{DateTime.Now:HH:mm:ss} {p.Generations} generations ({p.Failures} failed), {p.Feedback} feedback scores, {p.Samples} host samples; models: {string.Join(", ", p.Models)}");
}
