using Kyros.Perf.Cli;
using Kyros.Perf.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

const string Usage = """
    kyros-perf: talk to a Kyros.Perf cluster through the Orleans client.

    Usage: kyros-perf <command> [options]

    Commands:
      status                          silos, models and a round-trip time
      record  --model M --execution-time S [--ttft S] [--input-tokens N] [--output-tokens N]
              [--cost C] [--quality Q] [--error-kind K] [--request-id ID] [--instance I]
      summary [--model M] [--window 1h]   one model's figures, or every model and the cluster
      route   [--strategy adaptive] [--prompt TEXT | --estimated-tokens N] [--requires-code] [--requires-vision]
              [--requires-tools] [--creativity 0-1] [--reasoning 0-1] [--max-latency S] [--max-cost C]
              [--output-tokens N] [--stream] [--models a,b,c]     a routing decision and its score table
      resources [--node H] [--window 15m]   hosts' CPU, memory, disks, network, GPUs, patterns and scaling advice
      alerts  [--follow] [--active] [--level warning] [--node H] [--limit N]   the alert log, or alerts as they come
      agent   [--node H] [--group G] [--interval S] [--count N]   sample this host and push (a host without a silo)
      health                          the router's view of each model: cooldowns, rate limits used, live samples
      generate "PROMPT" [--strategy balanced] [--model M] [--max-tokens 256] [--temperature T] [--requires-code] ...
                                      route, call the model, print the text, the decision and the usage
      feedback --request-id ID --score 0-1   a quality score for an earlier generation

    Connection (or Kyros__Redis / Kyros__Gateways__0 in the environment):
      --redis <connection string>     find the silos through Redis
      --gateway <ip:port>             a silo's gateway (default 127.0.0.1:30000)
    """;

if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 240;
var line = new CommandLine(args);
if (line.Verb is null or "help" || line.Flag("help"))
{
    Console.WriteLine(Usage);
    return line.Verb is null && !line.Flag("help") ? 1 : 0;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
try
{
    // The tool's own directory, not the caller's: a silo's appsettings.json where it is run must not change it.
    var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    var redis = line.Text("redis");
    var gateway = line.Text("gateway");
    builder.Services.AddKyrosPerfClient(o =>
    {
        builder.Configuration.GetSection(KyrosPerfClientOptions.Section).Bind(o);
        if (redis is not null) o.Redis = redis;
        if (gateway is not null) o.Gateways = [gateway];
    });
    var commands = line.Verb switch
    {
        "status" => (Func<KyrosPerfClient, Task>)(client => Commands.StatusAsync(client, line)),
        "record" => client => Commands.RecordAsync(client, line),
        "summary" => client => Commands.SummaryAsync(client, line),
        "route" => client => Commands.RouteAsync(client, line),
        "health" => client => Commands.HealthAsync(client, line),
        "resources" => client => ResourceCommands.ResourcesAsync(client, line),
        "alerts" => client => ResourceCommands.AlertsAsync(client, line, stop.Token),
        "agent" => client => ResourceCommands.AgentAsync(client, line, stop.Token),
        "generate" => client => Commands.GenerateAsync(client, line),
        "feedback" => client => Commands.FeedbackAsync(client, line),
        _ => throw new ArgumentException($"Unknown command '{line.Verb}'. Run kyros-perf help."),
    };
    using var host = builder.Build();
    await host.StartAsync();
    try
    {
        await commands(host.Services.GetRequiredService<KyrosPerfClient>());
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
    }
    await host.StopAsync();
    return 0;
}
catch (ArgumentException exception)
{
    AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {Kyros.Perf.Models.ArgumentErrors.DetailOf(exception)}");
    return 2;
}
catch (Exception exception) when (exception is OrleansException or TimeoutException or System.Net.Sockets.SocketException)
{
    AnsiConsole.MarkupLineInterpolated($"[red]cannot reach the cluster:[/] {exception.Message}");
    return 3;
}
