using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary>What a command does once the cluster is reached.</summary>
public delegate Task ClusterWork(KyrosPerfClient client, CancellationToken cancellationToken);

/// <summary>Work on the cluster that decides its own exit code (a benchmark that failed exits 1).</summary>
public delegate Task<int> ClusterWorkWithExitCode(KyrosPerfClient client, CancellationToken cancellationToken);

/// <summary>
/// The parts every command shares: the connection options, the root command, parsing with this tool's exit codes, and
/// <see cref="SetClusterAction"/>, which connects to the cluster, runs a command's work and maps its errors to exit codes.
/// </summary>
public static class Cli
{
    public const int Success = 0;
    /// <summary>No command given: the help is printed.</summary>
    public const int NoCommand = 1;
    /// <summary>An unknown option or command, a missing or unparsable value, or input the SDK or a grain refused.</summary>
    public const int BadInput = 2;
    public const int Unreachable = 3;

    public static readonly Option<string> Redis = new("--redis")
    {
        Description = "Find the silos through Redis (or Kyros__Redis in the environment)",
        HelpName = "connection string",
        Recursive = true,
    };

    public static readonly Option<string> Gateway = new("--gateway")
    {
        Description = "A silo's gateway, default 127.0.0.1:30000 (or Kyros__Gateways__0 in the environment)",
        HelpName = "ip:port",
        Recursive = true,
    };

    // A cluster whose gateways require mutual TLS (docs/security.md): this tool's certificate and the cluster's CA.
    public static readonly Option<string> TlsCertificate = new("--tls-cert")
    {
        Description = "This client's certificate, PEM (with --tls-key) or PFX (password in Kyros__Tls__CertificatePassword); or Kyros__Tls__CertificatePath",
        HelpName = "file",
        Recursive = true,
    };

    public static readonly Option<string> TlsKey = new("--tls-key")
    {
        Description = "The PEM key of --tls-cert (or Kyros__Tls__KeyPath)",
        HelpName = "file",
        Recursive = true,
    };

    public static readonly Option<string> TlsCa = new("--tls-ca")
    {
        Description = "The PEM of the CA that signs the silos' certificates (or Kyros__Tls__CaPath)",
        HelpName = "file",
        Recursive = true,
    };

    /// <summary>The root command: the connection options on every command; alone, it prints the help and exits 1.</summary>
    public static RootCommand Root(string description, params IEnumerable<Command> commands)
    {
        var root = new RootCommand(description) { Redis, Gateway, TlsCertificate, TlsKey, TlsCa };
        foreach (var command in commands) root.Subcommands.Add(command);
        root.SetAction(parse =>
        {
            new HelpAction().Invoke(parse);
            return NoCommand;
        });
        // `kyros-perf help [command]`, as `--help` (kept from the hand-written parser).
        var topic = new Argument<string[]>("command") { Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "Print the help of the tool or of a command") { Hidden = true };
        help.Arguments.Add(topic);
        help.SetAction((parse, _) => InvokeAsync(root, [.. parse.GetValue(topic) ?? [], "--help"]));
        root.Subcommands.Add(help);
        NoOptionAsValue(root);
        return root;
    }

    /// <summary>
    /// System.CommandLine gives an option that needs a value the next word even when that word is another option
    /// (<c>--prompt --stream</c> would be the prompt "--stream"). Here, as before, an option is never a value:
    /// each value option takes at most one word that is not an option, and none is the error "--prompt needs a value.".
    /// </summary>
    private static void NoOptionAsValue(Command command)
    {
        foreach (var option in command.Options.Where(o => o.Arity.Equals(ArgumentArity.ExactlyOne)))
        {
            option.Arity = ArgumentArity.ZeroOrOne;
            option.Validators.Add(result =>
            {
                if (!result.Implicit && result.Tokens.Count == 0) result.AddError($"{result.Option.Name} needs a value.");
            });
        }
        foreach (var subcommand in command.Subcommands) NoOptionAsValue(subcommand);
    }

    /// <summary>Parses and runs <paramref name="args"/>; parse errors exit <see cref="BadInput"/> (System.CommandLine's own would be 1).</summary>
    public static async Task<int> InvokeAsync(RootCommand root, IReadOnlyList<string> args)
    {
        // No response files: a word such as "@name" in a prompt is a word.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is not CommandLineAction { ClearsParseErrors: true })
        {
            foreach (var error in parse.Errors) AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {error.Message}");
            // The whole path from the root (bench trends), not only the last command.
            var names = new List<string>();
            for (var result = parse.CommandResult; result.Parent is CommandResult parent; result = parent) names.Add(result.Command.Name);
            names.Reverse();
            var path = string.Join(' ', names);
            AnsiConsole.MarkupLineInterpolated($"Run {root.Name} {(path.Length == 0 ? "" : path + " ")}--help for the commands and options.");
            return BadInput;
        }
        // Ctrl+C is this tool's own (SetClusterAction), so a following command stops and closes its subscription, and exits 0.
        return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    }

    /// <summary>
    /// Makes <paramref name="command"/> run on the cluster: <paramref name="prepare"/> reads and checks the options (no cluster
    /// needed, so bad input is told before connecting) and returns the work, which runs with a connected client.
    /// An <see cref="ArgumentException"/> exits <see cref="BadInput"/>; an unreachable cluster <see cref="Unreachable"/>.
    /// </summary>
    public static Command SetClusterAction(this Command command, Func<ParseResult, ClusterWork> prepare) =>
        command.SetClusterAction(parse =>
        {
            var work = prepare(parse);
            return async (client, cancellationToken) =>
            {
                await work(client, cancellationToken);
                return Success;
            };
        });

    /// <summary>As <see cref="SetClusterAction(Command, Func{ParseResult, ClusterWork})"/>, for work that returns its exit code.</summary>
    public static Command SetClusterAction(this Command command, Func<ParseResult, ClusterWorkWithExitCode> prepare)
    {
        command.SetAction((parse, cancellationToken) => RunAsync(parse, prepare, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<ParseResult, ClusterWorkWithExitCode> prepare, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            var work = prepare(parse);
            using var host = BuildHost(parse);
            await host.StartAsync();
            var code = Success;
            try
            {
                code = await work(host.Services.GetRequiredService<KyrosPerfClient>(), stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            await host.StopAsync();
            return code;
        }
        catch (ArgumentException exception)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {ArgumentErrors.DetailOf(exception)}");
            return BadInput;
        }
        catch (Exception exception) when (exception is Tuning.RecommendationNotFoundException or Tuning.RecommendationStateException
                                              or Benchmarking.BenchmarkNotFoundException or Catalog.CatalogModelNotFoundException
                                              or Catalog.CatalogModelExistsException or Catalog.CatalogRevisionException
                                              or Keys.ApiKeyNotFoundException or Keys.ApiKeyNameTakenException or Keys.ApiKeyRevisionException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {exception.Message}");
            return BadInput;
        }
        catch (Exception exception) when (exception is OrleansException or TimeoutException or System.Net.Sockets.SocketException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]cannot reach the cluster:[/] {exception.Message}");
            return Unreachable;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    private static IHost BuildHost(ParseResult parse)
    {
        var (redis, gateway) = (parse.GetValue(Redis), parse.GetValue(Gateway));
        var (certificate, key, ca) = (parse.GetValue(TlsCertificate), parse.GetValue(TlsKey), parse.GetValue(TlsCa));
        // The tool's own directory, not the caller's: a silo's appsettings.json where it is run must not change it.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddKyrosPerfClient(o =>
        {
            o.Bind(builder.Configuration);
            if (redis is not null) o.Redis = redis;
            if (gateway is not null) o.Gateways = [gateway];
            if (certificate is not null) o.Tls.CertificatePath = certificate;
            if (key is not null) o.Tls.KeyPath = key;
            if (ca is not null) o.Tls.CaPath = ca;
        });
        return builder.Build();
    }

    /// <summary>
    /// The parser of a number option (<c>CustomParser = Cli.Number&lt;double&gt;</c>): a value that is not one is an
    /// error naming the option, as <c>--ttft 'x' is not a number.</c>
    /// </summary>
    public static T Number<T>(ArgumentResult result) where T : struct, INumber<T> => OptionalNumber<T>(result) ?? default;

    /// <summary>As <see cref="Number{T}"/>, for an option without a default (<c>Option&lt;double?&gt;</c>).</summary>
    public static T? OptionalNumber<T>(ArgumentResult result) where T : struct, INumber<T>
    {
        if (result.Tokens.Count == 0) return null;
        var text = result.Tokens[0].Value;
        var whole = default(T) is long or int;
        if (T.TryParse(text, whole ? NumberStyles.Integer : NumberStyles.Float, CultureInfo.InvariantCulture, out var value)) return value;
        var name = result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
        result.AddError($"{name} '{text}' is not {(whole ? "a whole number" : "a number")}.");
        return null;
    }
}
