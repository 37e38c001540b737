using Kyros.Perf.Cli;
using Spectre.Console;

if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;

// Every command, in the order the help lists them; each is declared, options and action, in one method.
var root = Cli.Root("kyros-perf: talk to a Kyros.Perf cluster through the Orleans client.",
    Commands.Status(),
    Commands.Record(),
    Commands.Summary(),
    ModelCommands.Models(),
    KeyCommands.Keys(),
    Commands.Route(),
    ResourceCommands.Resources(),
    ResourceCommands.Alerts(),
    ResourceCommands.Agent(),
    Commands.Health(),
    Commands.Generate(),
    Commands.Embed(),
    Commands.Feedback(),
    TuningCommands.Tune(),
    BenchmarkCommands.Bench(),
    DemoCommand.Demo());
return await Cli.InvokeAsync(root, args);
