using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using Kyros.Perf.Benchmarking;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary>
/// <c>kyros-perf bench</c>: runs a comparative benchmark of catalog models and follows it with a progress bar, or with a
/// subcommand lists, shows, cancels, reports on and compares runs.
/// </summary>
public static class BenchmarkCommands
{
    /// <summary>The exit code of a run that failed or was cancelled (Ctrl+C included).</summary>
    private const int RunNotCompleted = 1;

    private const string ClosedLoop = "concurrency";
    private const string OpenLoop = "load";

    public static Command Bench()
    {
        var models = new Option<string>("--models") { Description = "The catalog models to compare, comma-separated", HelpName = "a,b,c", Required = true };
        var promptFile = new Option<string>("--prompts")
        {
            Description = "A JSON Lines file of prompts: a string, or {\"prompt\": \"...\", \"expected\": \"...\"}, a line", HelpName = "file.jsonl",
        };
        // A list: each --prompt takes one word, so "--prompt a --prompt b" is two prompts.
        var prompts = new Option<string[]>("--prompt") { Description = "A prompt, instead of --prompts (repeatable)", HelpName = "text" };
        // Cli.Root's "needs a value" check covers single-value options only.
        prompts.Validators.Add(result =>
        {
            if (result.Tokens.Count < result.IdentifierTokenCount) result.AddError("--prompt needs a value.");
        });
        var iterations = new Option<int>("--iterations")
        {
            Description = "Requests per model at each concurrency level", HelpName = "n", DefaultValueFactory = _ => 10, CustomParser = Cli.Number<int>,
        };
        // One word, "1,2,4": a list option would otherwise take the words after it.
        var concurrency = new Option<int[]>("--concurrency")
        {
            Description = "The closed-loop concurrency levels, comma-separated", HelpName = "1,2,4", Arity = ArgumentArity.ExactlyOne,
            DefaultValueFactory = _ => [1], CustomParser = WholeNumbers,
        };
        var maxTokens = new Option<int>("--max-tokens")
        {
            Description = "The output budget of each request in tokens", HelpName = "tokens", DefaultValueFactory = _ => 256, CustomParser = Cli.Number<int>,
        };
        var metrics = new Option<string>("--metrics")
        {
            Description = $"The figures the report shows, comma-separated: {string.Join(", ", BenchmarkMetrics.All)} (default: all)", HelpName = "a,b",
        };
        var sloTtft = new Option<double?>("--slo-ttft")
        {
            Description = "The time to first token a request must meet to count toward goodput", HelpName = "seconds", CustomParser = Cli.OptionalNumber<double>,
        };
        var sloLatency = new Option<double?>("--slo-latency")
        {
            Description = "The latency a request must meet to count toward goodput", HelpName = "seconds", CustomParser = Cli.OptionalNumber<double>,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seeds the order of models and the load test's arrivals", DefaultValueFactory = _ => 1, CustomParser = Cli.Number<int>,
        };
        var name = new Option<string>("--name") { Description = "The name runs are compared under for trends (default: a digest of what the run measures)" };
        var recordLive = new Option<bool>("--record-live") { Description = "Also feed the run's calls to the live statistics that routing reads" };
        var load = new Option<bool>("--load") { Description = "After the closed loop, an open-loop load test (needs --rps and --duration)" };
        var rps = new Option<double?>("--rps")
        {
            Description = "The load test's target rate per model (Poisson arrivals)", HelpName = "requests/s", CustomParser = Cli.OptionalNumber<double>,
        };
        var duration = new Option<double?>("--duration") { Description = "The load test's length", HelpName = "seconds", CustomParser = Cli.OptionalNumber<double> };
        var rampSteps = new Option<int>("--ramp-steps")
        {
            Description = "Equal steps the load test climbs to --rps in (1: no ramp)", HelpName = "n", DefaultValueFactory = _ => 1, CustomParser = Cli.Number<int>,
        };
        var maxInFlight = new Option<int>("--max-in-flight")
        {
            Description = "The load test's cap on requests in flight per model", HelpName = "n", DefaultValueFactory = _ => 256, CustomParser = Cli.Number<int>,
        };
        var output = new Option<string>("--out")
        {
            Description = "Write the report to this file, in the format of its extension: .md (markdown), .csv or .json", HelpName = "path",
        };
        var noWait = new Option<bool>("--no-wait") { Description = "Only submit the run and print its id" };

        var command = new Command("bench", "Benchmark catalog models: latency, time to first token, throughput, cost and quality, side by side")
        {
            models, promptFile, prompts, iterations, concurrency, maxTokens, metrics, sloTtft, sloLatency, seed, name, recordLive,
            load, rps, duration, rampSteps, maxInFlight, output, noWait,
            List(), Show(), Cancel(), Report(), Trends(),
        };
        // Usage errors: told by the parser with the other parse errors, before anything is read or sent.
        command.Validators.Add(result =>
        {
            bool Given(Option option) => result.GetResult(option) is { Implicit: false };
            if (Given(promptFile) == Given(prompts)) result.AddError("Give the prompts with either --prompts FILE or --prompt TEXT (repeatable).");
            if (Given(load) && !(Given(rps) && Given(duration))) result.AddError("--load needs --rps and --duration.");
            foreach (var loadOnly in new Option[] { rps, duration, rampSteps, maxInFlight })
                if (!Given(load) && Given(loadOnly)) result.AddError($"{loadOnly.Name} is for the load test: add --load.");
            if (Given(noWait) && Given(output)) result.AddError("--out needs the finished run: leave out --no-wait, or use bench report later.");
        });

        return command.SetClusterAction(parse =>
        {
            var fromFile = parse.GetValue(promptFile) is not null;
            var config = new BenchmarkConfig
            {
                ModelTypes = Split(parse.GetRequiredValue(models)),
                TestPrompts = Rename(() => parse.GetValue(promptFile) is { } file
                    ? BenchmarkPrompts.ReadJsonl(file)
                    : [.. (parse.GetValue(prompts) ?? []).Select(p => new BenchmarkPrompt(p))], fromFile),
                IterationsPerModel = parse.GetValue(iterations),
                ConcurrencyLevels = parse.GetValue(concurrency) ?? [],
                MaxTokens = parse.GetValue(maxTokens),
                MetricsToCollect = parse.GetValue(metrics) is { } names ? Split(names) : [.. BenchmarkMetrics.All],
                Slo = new BenchmarkSlo(parse.GetValue(sloTtft), parse.GetValue(sloLatency)),
                Seed = parse.GetValue(seed),
                Name = parse.GetValue(name),
                RecordLiveStatistics = parse.GetValue(recordLive),
                Load = parse.GetValue(load)
                    ? new BenchmarkLoad(parse.GetValue(rps) ?? 0, parse.GetValue(duration) ?? 0, parse.GetValue(rampSteps), parse.GetValue(maxInFlight))
                    : null,
            };
            // Checked here, before connecting, with the widest limits; the silo checks its own and the catalog.
            Rename(() => BenchmarkValidator.Validate(config, BenchmarkLimits.Widest), fromFile);
            var reportPath = parse.GetValue(output);
            var reportFormat = reportPath is null ? null : FormatOf(reportPath);

            if (parse.GetValue(noWait))
                return async (client, _) =>
                {
                    var submitted = await RenameAsync(() => client.StartBenchmarkAsync(config), fromFile);
                    AnsiConsole.WriteLine(submitted.Id);
                    return Cli.Success;
                };
            return async (client, cancellationToken) =>
            {
                var (run, interrupted) = await FollowAsync(client, config, fromFile, cancellationToken);
                Print(run);
                if (reportPath is not null)
                {
                    var report = await client.GetBenchmarkReportAsync(run.Id, reportFormat!);
                    await File.WriteAllTextAsync(reportPath, report.Content, CancellationToken.None);
                    AnsiConsole.MarkupLineInterpolated($"{report.Format} report written to {reportPath}");
                }
                return run.Status == BenchmarkStatus.Completed && !interrupted ? Cli.Success : RunNotCompleted;
            };
        });
    }

    /// <summary>
    /// Runs the benchmark under a progress bar. Ctrl+C cancels the run (the SDK does that) and answers the run as it
    /// stands after the cancel, with the results of the cells it finished.
    /// </summary>
    private static async Task<(BenchmarkRun Run, bool Interrupted)> FollowAsync(KyrosPerfClient client, BenchmarkConfig config, bool fromFile,
        CancellationToken cancellationToken)
    {
        BenchmarkRun? latest = null;
        try
        {
            var run = await AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async context =>
                {
                    var bar = context.AddTask("submitting", maxValue: 1);
                    var progress = new Reporter(run =>
                    {
                        latest = run;
                        var p = run.Progress;
                        bar.MaxValue = Math.Max(1, p.Total);
                        bar.Value = p.Completed;
                        var status = BenchmarkStatuses.Name(run.Status);
                        var doing = run.Status == BenchmarkStatus.Running && p.Phase != status ? $"{status}: {p.Phase}" : status;
                        bar.Description = Markup.Escape($"{run.Id} {doing} ({p.Completed}/{p.Total})");
                    });
                    return await RenameAsync(() => client.RunBenchmarkAsync(config, progress, cancellationToken: cancellationToken), fromFile);
                });
            return (run, false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && latest is not null)
        {
            // The SDK has cancelled the run; this reads it back with its partial results.
            AnsiConsole.MarkupLine("[yellow]interrupted: the run is cancelled[/]");
            return (await client.GetBenchmarkAsync(latest.Id), true);
        }
    }

    private static Command List()
    {
        var limit = new Option<int>("--limit") { Description = "How many runs, newest first (1-1000)", HelpName = "n", DefaultValueFactory = _ => 20, CustomParser = Cli.Number<int> };
        return new Command("list", "The newest runs") { limit }.SetClusterAction(parse =>
        {
            var count = parse.GetValue(limit);
            if (count is < 1 or > 1000) throw new ArgumentException($"--limit must be within 1..1000 (got {count}).");
            return async (client, _) =>
            {
                var runs = await client.ListBenchmarksAsync(count);
                if (runs.Length == 0)
                {
                    AnsiConsole.WriteLine("no benchmark runs");
                    return;
                }
                var table = new Table().AddColumns("id", "status", "config", "created", "models", "progress");
                foreach (var r in runs)
                    table.AddRow(Markup.Escape(r.Id), Status(r.Status), Markup.Escape(r.ConfigKey), r.CreatedAt.ToString("u", CultureInfo.InvariantCulture),
                        Markup.Escape(string.Join(", ", r.Config.ModelTypes)), $"{r.Progress.Completed}/{r.Progress.Total} ({P(r.Progress.Fraction)})");
                AnsiConsole.Write(table);
            };
        });
    }

    private static Command Show()
    {
        var id = RunId();
        return new Command("show", "A run: where it stands and the results of the cells it finished") { id }.SetClusterAction(parse =>
        {
            var value = BenchmarkValidator.RequireId(parse.GetValue(id));
            return async (client, _) => Print(await KnownRunAsync(() => client.GetBenchmarkAsync(value)));
        });
    }

    private static Command Cancel()
    {
        var id = RunId();
        return new Command("cancel", "Cancel a queued or running run; the cells it finished stay") { id }.SetClusterAction(parse =>
        {
            var value = BenchmarkValidator.RequireId(parse.GetValue(id));
            return async (client, _) => Print(await KnownRunAsync(() => client.CancelBenchmarkAsync(value)));
        });
    }

    private static Command Report()
    {
        var id = RunId();
        var format = new Option<string>("--format")
        {
            Description = $"{string.Join(", ", BenchmarkReportFormats.All)} (default: from --out's extension, else markdown)",
        };
        var output = new Option<string>("--out") { Description = "Write the report to this file instead of printing it", HelpName = "path" };
        return new Command("report", "A run's report: tables, the comparison with earlier runs and charts (markdown), or CSV or JSON") { id, format, output }
            .SetClusterAction(parse =>
            {
                var value = BenchmarkValidator.RequireId(parse.GetValue(id));
                var path = parse.GetValue(output);
                var chosen = parse.GetValue(format) is { } given
                    ? Rename(() => BenchmarkReportFormats.Require(given), fromFile: false)
                    : path is not null && FormatOfExtension(path) is { } fromExtension ? fromExtension : BenchmarkReportFormats.Markdown;
                return async (client, _) =>
                {
                    var report = await KnownRunAsync(() => client.GetBenchmarkReportAsync(value, chosen));
                    if (path is null)
                    {
                        // Written as it is: the console's markup and wrapping would change a document meant for files and pipes.
                        await Console.Out.WriteAsync(report.Content);
                        return;
                    }
                    await File.WriteAllTextAsync(path, report.Content, CancellationToken.None);
                    AnsiConsole.MarkupLineInterpolated($"{report.Format} report written to {path}");
                };
            });
    }

    private static Command Trends()
    {
        var config = new Option<string>("--config") { Description = "The configuration's key (a run's config column): its newest finished run", HelpName = "key" };
        var run = new Option<string>("--run") { Description = "A run to compare, instead of --config", HelpName = "id" };
        var model = new Option<string>("--model") { Description = "Only this model" };
        var metric = new Option<string>("--metric") { Description = "Only this metric: latency_p50, latency_p95, ttft_p50, tokens_per_second or error_rate (default: all)" };
        var command = new Command("trends", "How a run compares with the earlier runs of its configuration: changes with their 95% intervals, and regressions")
        {
            config, run, model, metric,
        };
        command.Validators.Add(result =>
        {
            if ((result.GetResult(config) is null) == (result.GetResult(run) is null)) result.AddError("Give either --config KEY or --run ID.");
        });
        return command.SetClusterAction(parse =>
        {
            var runId = parse.GetValue(run) is { } given ? BenchmarkValidator.RequireId(given) : null;
            var query = new BenchmarkTrendQuery(parse.GetValue(config), parse.GetValue(model), parse.GetValue(metric), runId);
            return async (client, _) =>
            {
                var report = await KnownRunAsync(() => client.GetBenchmarkTrendsAsync(query));
                if (report.Run is null)
                {
                    AnsiConsole.MarkupLineInterpolated($"configuration {report.ConfigKey} has no finished run");
                    return;
                }
                AnsiConsole.MarkupLineInterpolated(
                    $"{report.Run} ({report.ConfigKey}) against {report.BaselineRuns.Length} earlier run(s); a regression is a significant worsening of more than {P(report.RegressionThreshold)}");
                if (report.Changes.Length == 0)
                {
                    AnsiConsole.WriteLine("nothing to compare: no earlier run measured these cells");
                    return;
                }
                var table = new Table().AddColumns("model", "mode", "level", "metric", "baseline", "current", "change (95% interval)", "significant", "regression");
                foreach (var t in report.Changes)
                    table.AddRow(Markup.Escape(t.Model), Markup.Escape(t.Mode), t.Mode == OpenLoop ? $"cap {t.Concurrency}" : F(t.Concurrency), Markup.Escape(t.Metric),
                        $"{F(t.Baseline)} (n={t.BaselineSamples})", $"{F(t.Current)} (n={t.CurrentSamples})",
                        Markup.Escape($"{Change(t.Change)} [{Change(t.ChangeLow)}, {Change(t.ChangeHigh)}]"), t.Significant ? "yes" : "no",
                        t.Regression ? "[red]REGRESSION[/]" : "no");
                AnsiConsole.Write(table);
            };
        });

        static string Change(double change) => change.ToString("+0.0%;-0.0%;0.0%", CultureInfo.InvariantCulture);
    }

    /// <summary>The run's results, one row per model and level, then where it stands (and why it failed).</summary>
    private static void Print(BenchmarkRun run)
    {
        if (run.Results.Length == 0)
        {
            AnsiConsole.WriteLine("no results yet");
        }
        else
        {
            var table = new Table().AddColumns("model", "mode", "level", "requests", "errors", "p50 s", "p95 s", "p99 s", "ttft p50 s", "ttft p95 s",
                "tok/s", "req/s", "goodput", "cost/req", "quality", "late sends");
            foreach (var r in Ordered(run))
                table.AddRow(Markup.Escape(r.Model), Markup.Escape(r.Mode), r.TargetRps is { } target ? $"{F(target)} rps" : F(r.Concurrency), F(r.Requests),
                    $"{r.Requests - r.Successes} ({P(r.ErrorRate)})", F(r.Latency.P50), F(r.Latency.P95), F(r.Latency.P99), F(r.Ttft.P50), F(r.Ttft.P95),
                    F(r.OutputTokensPerSecond), F(r.RequestsPerSecond), P(r.Goodput), r.CostPerRequest.ToString("0.######", CultureInfo.InvariantCulture),
                    r.Quality is { } quality ? $"{F(quality)} (n={r.QualityScored})" : "-", r.Mode == OpenLoop ? F(r.LateSends) : "-");
            AnsiConsole.Write(table);
        }
        var took = run.StartedAt is { } started ? $", {((run.FinishedAt ?? DateTimeOffset.UtcNow) - started).TotalSeconds:0.#} s" : "";
        AnsiConsole.MarkupLine(
            $"{Markup.Escape(run.Id)} {Status(run.Status)}: {run.Progress.Completed} of {run.Progress.Total} requests{took}; config {Markup.Escape(run.ConfigKey)}");
        // A cancelled run says why too; only a failure is an error.
        if (run.Error is not { } error) return;
        if (run.Status == BenchmarkStatus.Failed) AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {error}");
        else AnsiConsole.WriteLine(error);
    }

    /// <summary>Rows in the config's order of models, the closed loop by level, then the load test (as the report orders them).</summary>
    private static IEnumerable<BenchmarkResult> Ordered(BenchmarkRun run)
    {
        var models = run.Config.ModelTypes.Concat(run.Results.Select(r => r.Model)).Distinct().ToList();
        return run.Results.OrderBy(r => models.IndexOf(r.Model)).ThenBy(r => r.Mode == ClosedLoop ? 0 : 1).ThenBy(r => r.Mode, StringComparer.Ordinal)
            .ThenBy(r => r.Concurrency);
    }

    private static string Status(BenchmarkStatus status) => status switch
    {
        BenchmarkStatus.Completed => "[green]completed[/]",
        BenchmarkStatus.Failed => "[red]failed[/]",
        BenchmarkStatus.Cancelled => "[yellow]cancelled[/]",
        _ => BenchmarkStatuses.Name(status),
    };

    private static Argument<string> RunId() => new("id") { Description = "The run's id (bench-...)" };

    /// <summary>The report format of <c>--out</c>'s extension; another extension is bad input naming --out.</summary>
    private static string FormatOf(string path) => FormatOfExtension(path)
        ?? throw new ArgumentException($"--out must end in .md, .csv or .json, which give the report's format (got '{Path.GetFileName(path)}').");

    private static string? FormatOfExtension(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".md" or ".markdown" => BenchmarkReportFormats.Markdown,
        ".csv" => BenchmarkReportFormats.Csv,
        ".json" => BenchmarkReportFormats.Json,
        _ => null,
    };

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.TrimEntries);

    /// <summary>A comma-separated list of whole numbers in one word; a part that is not one is a parse error naming the option.</summary>
    private static int[] WholeNumbers(ArgumentResult result)
    {
        if (result.Tokens.Count == 0) return [];
        var numbers = new List<int>();
        foreach (var part in Split(result.Tokens[0].Value))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
            {
                var name = result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
                result.AddError($"{name} '{part}' is not a whole number.");
                return [];
            }
            numbers.Add(number);
        }
        return [.. numbers];
    }

    /// <summary>The options the validator's fields (snake_case, as the SDK, HTTP and the grains name them) come from.</summary>
    private static readonly Dictionary<string, string> OptionOfField = new()
    {
        ["model_types"] = "--models",
        ["prompt_file"] = "--prompts",
        ["iterations_per_model"] = "--iterations",
        ["concurrency_levels"] = "--concurrency",
        ["metrics_to_collect"] = "--metrics",
        ["max_tokens"] = "--max-tokens",
        ["slo.ttft_seconds"] = "--slo-ttft",
        ["slo.latency_seconds"] = "--slo-latency",
        ["load.target_rps"] = "--rps",
        ["load.duration_seconds"] = "--duration",
        ["load.ramp_steps"] = "--ramp-steps",
        ["load.max_in_flight"] = "--max-in-flight",
        ["name"] = "--name",
        ["format"] = "--format",
    };

    /// <summary>
    /// The same error, told by the option the user typed: "--concurrency: must be within 1..10000 (got 0)." rather
    /// than the field concurrency_levels[0]. An error whose field no option gives is left as it is.
    /// </summary>
    private static ArgumentException ByOption(ArgumentException exception, bool fromFile)
    {
        if (ArgumentErrors.FieldOf(exception) is not { } field) return exception;
        var baseField = field.Split('[')[0];
        var option = baseField == "test_prompts" ? fromFile ? "--prompts" : "--prompt" : OptionOfField.GetValueOrDefault(baseField);
        if (option is null) return exception;
        var detail = ArgumentErrors.DetailOf(exception);
        return new ArgumentException(detail.StartsWith(field + " ", StringComparison.Ordinal) ? option + detail[field.Length..] : $"{option}: {detail}", exception);
    }

    private static T Rename<T>(Func<T> read, bool fromFile)
    {
        try
        {
            return read();
        }
        catch (ArgumentException exception)
        {
            throw ByOption(exception, fromFile);
        }
    }

    private static void Rename(Action check, bool fromFile) => Rename(() =>
    {
        check();
        return true;
    }, fromFile);

    /// <summary>As <see cref="Rename{T}"/>, for what the silo refuses (an unknown model, a level above its limit).</summary>
    private static async Task<T> RenameAsync<T>(Func<Task<T>> call, bool fromFile)
    {
        try
        {
            return await call();
        }
        catch (ArgumentException exception)
        {
            throw ByOption(exception, fromFile);
        }
    }

    /// <summary>An unknown run id is bad input (exit 2), as a refused argument is: <see cref="Cli"/> does not know this exception.</summary>
    private static async Task<T> KnownRunAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (BenchmarkNotFoundException exception)
        {
            throw new ArgumentException(exception.Message, exception);
        }
    }

    /// <summary>Reports at once, on the caller's thread: <see cref="Progress{T}"/> would post reports that could land after the run's end.</summary>
    private sealed class Reporter(Action<BenchmarkRun> report) : IProgress<BenchmarkRun>
    {
        public void Report(BenchmarkRun value) => report(value);
    }

    private static string F(double? value) => Commands.F(value);

    private static string P(double rate) => rate.ToString("0.0%", CultureInfo.InvariantCulture);
}
