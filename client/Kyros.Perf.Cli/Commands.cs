using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.Stats;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary>The commands on models and routing; each one's options and action in one place (see <see cref="Cli.SetClusterAction"/>).</summary>
public static class Commands
{
    public static Command Status() =>
        new Command("status", "Silos, models and a round-trip time").SetClusterAction(_ => async (client, _) =>
        {
            var watch = Stopwatch.StartNew();
            await client.PingAsync();
            var roundTrip = watch.Elapsed;
            var silos = await client.GetSilosAsync();
            var models = await client.GetModelsAsync();

            var table = new Table().AddColumns("silo", "status");
            foreach (var silo in silos)
            {
                var parts = silo.Split(' ');
                table.AddRow(Markup.Escape(parts[0]), Markup.Escape(parts.Length > 1 ? parts[1] : ""));
            }
            AnsiConsole.Write(table);
            var catalog = new Table().AddColumns("model", "provider", "context", "in $/1k", "out $/1k", "latency prior s", "quality prior");
            foreach (var m in models)
                catalog.AddRow(Markup.Escape(m.Id), m.Provider, F(m.ContextWindow), F(m.InputPricePer1k), F(m.OutputPricePer1k), F(m.LatencyPrior), F(m.QualityPrior));
            AnsiConsole.Write(catalog);
            AnsiConsole.MarkupLineInterpolated($"round trip (no-op grain call): {roundTrip.TotalMilliseconds:0.00} ms");
        });

    public static Command Record()
    {
        var model = new Option<string>("--model") { Description = "The model that served the request", Required = true };
        var executionTime = new Option<double>("--execution-time")
        {
            Description = "The request's duration in seconds", HelpName = "seconds", Required = true, CustomParser = Cli.Number<double>,
        };
        var ttft = new Option<double?>("--ttft") { Description = "Time to the first token in seconds", HelpName = "seconds", CustomParser = Cli.OptionalNumber<double> };
        var inputTokens = new Option<long>("--input-tokens") { Description = "Tokens in the prompt", HelpName = "tokens", DefaultValueFactory = _ => 0, CustomParser = Cli.Number<long> };
        var outputTokens = new Option<long>("--output-tokens") { Description = "Tokens generated", HelpName = "tokens", DefaultValueFactory = _ => 0, CustomParser = Cli.Number<long> };
        var cost = new Option<double>("--cost") { Description = "What the request cost", DefaultValueFactory = _ => 0, CustomParser = Cli.Number<double> };
        var quality = new Option<double?>("--quality") { Description = "A quality score, 0-1", HelpName = "0-1", CustomParser = Cli.OptionalNumber<double> };
        var errorKind = new Option<string>("--error-kind") { Description = "The kind of error the request failed with; without it the request succeeded" };
        var requestId = new Option<string>("--request-id") { Description = "The request's id, so that a repeat is counted once (default: a new cli-... id)" };
        var instance = new Option<string>("--instance") { Description = "The model instance that served the request" };
        return new Command("record", "Record one request's performance for a model")
        {
            model, executionTime, ttft, inputTokens, outputTokens, cost, quality, errorKind, requestId, instance,
        }.SetClusterAction(parse =>
        {
            var record = new ModelPerformanceRecord(
                Model: parse.GetRequiredValue(model),
                Instance: parse.GetValue(instance),
                Timestamp: DateTimeOffset.UtcNow,
                ExecutionTime: parse.GetValue(executionTime),
                TimeToFirstToken: parse.GetValue(ttft),
                InputTokens: parse.GetValue(inputTokens),
                OutputTokens: parse.GetValue(outputTokens),
                Success: parse.GetValue(errorKind) is null,
                ErrorKind: parse.GetValue(errorKind),
                Cost: parse.GetValue(cost),
                QualityScore: parse.GetValue(quality),
                RequestId: parse.GetValue(requestId) ?? $"cli-{Guid.NewGuid():N}");
            return async (client, _) =>
            {
                var result = await client.RecordAsync(record);
                var table = new Table().AddColumns("model", "request id", "recorded", "duplicates");
                table.AddRow(Markup.Escape(record.Model), Markup.Escape(record.RequestId), F(result.Recorded), F(result.Duplicates));
                AnsiConsole.Write(table);
            };
        });
    }

    public static Command Summary()
    {
        var model = new Option<string>("--model") { Description = "One model's figures; without it, every model's and the cluster's" };
        var window = new Option<string>("--window") { Description = "The window: whole minutes, hours or days such as 5m, 1h or 24h", DefaultValueFactory = _ => "1h" };
        return new Command("summary", "One model's figures, or every model and the cluster") { model, window }.SetClusterAction(parse =>
        {
            var name = parse.GetValue(model);
            var span = TimeWindow.Parse(parse.GetValue(window));
            return async (client, _) =>
            {
                IReadOnlyList<ModelSummary> rows = name is null
                    ? await client.GetClusterSummaryAsync(span) is var cluster ? [.. cluster.Models, cluster.Cluster] : []
                    : [await client.GetSummaryAsync(name, span)];

                var table = new Table().AddColumns("model", "count", "errors", "p50 s", "p95 s", "p99 s", "max s", "ttft p95 s", "req/s", "out tok/s", "cost", "quality (n)", "last");
                foreach (var s in rows)
                    table.AddRow(Markup.Escape(s.Model), F(s.Count), P(s.ErrorRate), F(s.Latency.P50), F(s.Latency.P95), F(s.Latency.P99), F(s.Latency.Max),
                        F(s.Ttft.P95), F(s.Throughput.RequestsPerSecond), F(s.Throughput.OutputTokensPerSecond), F(s.Cost.Total),
                        s.Quality.Mean is null ? "-" : $"{F(s.Quality.Mean)} ({s.Quality.Count})", s.LastTimestamp?.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "-");
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLineInterpolated($"window {TimeWindow.Format(span)}, from {rows[0].WindowStart:u} to {rows[0].WindowEnd:u}");
            };
        });
    }

    public static Command Route()
    {
        var strategy = Strategy();
        var prompt = new Option<string>("--prompt") { Description = "The prompt, to count its tokens", HelpName = "text" };
        var estimatedTokens = new Option<long?>("--estimated-tokens")
        {
            Description = "The prompt's input tokens, instead of --prompt", HelpName = "tokens", CustomParser = Cli.OptionalNumber<long>,
        };
        var outputTokens = new Option<long>("--output-tokens")
        {
            Description = "The output budget in tokens", HelpName = "tokens", DefaultValueFactory = _ => Routing.RequestFeatures.DefaultOutputTokens, CustomParser = Cli.Number<long>,
        };
        var stream = new Option<bool>("--stream") { Description = "A streaming request: judged on time to first token rather than total latency" };
        var models = new Option<string>("--models") { Description = "The candidate models, comma-separated (default: the whole catalog)", HelpName = "a,b,c" };
        var requirements = new RequirementOptions();
        var command = new Command("route", "A routing decision and its score table") { strategy, prompt, estimatedTokens, outputTokens, stream, models };
        requirements.AddTo(command);
        return command.SetClusterAction(parse =>
        {
            var request = new Routing.RoutingRequest(
                requirements.Read(parse) with
                {
                    Prompt = parse.GetValue(prompt),
                    EstimatedTokens = parse.GetValue(estimatedTokens),
                    OutputTokens = parse.GetValue(outputTokens),
                    Stream = parse.GetValue(stream),
                },
                parse.GetValue(models)?.Split(',', StringSplitOptions.TrimEntries),
                Routing.RoutingStrategies.Parse(parse.GetValue(strategy)));
            return async (client, _) =>
            {
                Routing.RoutingDecision decision;
                try
                {
                    decision = await client.RouteAsync(request);
                }
                catch (Routing.NoCandidateException none)
                {
                    var why = new Table().AddColumns("rejected", "reason");
                    foreach (var r in none.Rejected) why.AddRow(Markup.Escape(r.Model), Markup.Escape(r.Reason));
                    AnsiConsole.Write(why);
                    throw new ArgumentException("No candidate passes the filters.");
                }
                AnsiConsole.MarkupLineInterpolated($"[bold]{decision.SelectedModel}[/] (confidence {decision.ConfidenceScore:0.00}, {decision.EstimatedTokens} input tokens)");
                AnsiConsole.WriteLine(decision.Reasoning);
                var table = new Table().AddColumns("model", "score", "latency part", "quality part", "cost part", "p95 s (samples)", "quality", "cost", "errors", "health");
                foreach (var c in decision.Candidates)
                    table.AddRow(Markup.Escape(c.Model), F(c.Score), F(c.LatencyPart), F(c.QualityPart), F(c.CostPart),
                        $"{F(c.Latency.Value)} ({c.Latency.Samples})", F(c.Quality.Value), c.Cost.Value.ToString("0.######", CultureInfo.InvariantCulture), P(c.ErrorRate.Value), c.Health.ToString());
                foreach (var r in decision.Rejected) table.AddRow(Markup.Escape(r.Model), "-", "-", "-", "-", "-", "-", "-", "-", Markup.Escape(r.Reason));
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLineInterpolated($"fallback order: {string.Join(" > ", decision.FallbackOrder)}");
            };
        });
    }

    public static Command Health() =>
        new Command("health", "The router's view of each model: cooldowns, rate limits used, live samples").SetClusterAction(_ => async (client, _) =>
        {
            var state = await client.GetRouterStateAsync();
            var table = new Table().AddColumns("model", "health", "why", "requests this minute", "tokens this minute", "limits held by", "live samples (5 min)",
                "statistics age s", "host alert");
            foreach (var m in state.Models)
            {
                var why = m.CoolingUntil is { } until ? $"{m.Reason}; until {until:HH:mm:ss}" : m.Reason ?? "";
                var limit = m.RateLimit;
                table.AddRow(Markup.Escape(m.Model), m.Health.ToString(), Markup.Escape(why),
                    Used(m.RequestsThisMinute, limit?.LeasedRequests, limit?.ClusterRequests, m.RequestsPerMinute),
                    Used(m.TokensThisMinute, limit?.LeasedTokens, limit?.ClusterTokens, m.TokensPerMinute),
                    limit is null ? "-" : limit.Mode == Kyros.Perf.Routing.RateLimitMode.Lease ? "lease" : $"share of {limit.Silos} silos (no lease heard)",
                    F(m.Samples), m.StatsAgeSeconds is { } age ? F(age) : "-", m.HostAlert.ToString());
            }
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"router of silo {state.Silo}; snapshot {F(state.SnapshotAgeSeconds)} s old");

            // This silo's use of what it may use, and what the whole cluster holds of the limit.
            static string Used(long? used, long? mine, long? cluster, long? limit) =>
                limit is { } l ? $"{used ?? 0} of {mine ?? 0} here; cluster holds {cluster ?? 0} of {l}" : "no limit";
        });

    public static Command Generate()
    {
        var words = new Argument<string[]>("prompt") { Description = "The prompt: the words after the command, joined by spaces", Arity = ArgumentArity.ZeroOrMore };
        var promptOption = new Option<string>("--prompt") { Description = "The prompt, instead of the words after the command", HelpName = "text" };
        var strategy = Strategy();
        var model = new Option<string>("--model") { Description = "A catalog model to use instead of routing (no fallback to others)" };
        var maxTokens = new Option<long?>("--max-tokens")
        {
            Description = "The output budget in tokens", HelpName = "tokens", DefaultValueFactory = _ => Gateway.GenerateRequest.DefaultMaxTokens,
            CustomParser = Cli.OptionalNumber<long>,
        };
        var temperature = new Option<double?>("--temperature") { Description = "The sampling temperature", CustomParser = Cli.OptionalNumber<double> };
        var requirements = new RequirementOptions();
        var command = new Command("generate", "Route, call the model, print the text, the decision and the usage") { words, promptOption, strategy, model, maxTokens, temperature };
        requirements.AddTo(command);
        return command.SetClusterAction(parse =>
        {
            var request = new Gateway.GenerateRequest
            {
                Prompt = (parse.GetValue(words) is { Length: > 0 } rest ? string.Join(' ', rest) : null)
                    ?? parse.GetValue(promptOption) ?? throw new ArgumentException("A prompt is required: kyros-perf generate \"your prompt\"."),
                Strategy = Routing.RoutingStrategies.Parse(parse.GetValue(strategy)),
                Model = parse.GetValue(model),
                MaxTokens = Gateway.GatewayValidator.MaxTokens(parse.GetValue(maxTokens), "--max-tokens") ?? Gateway.GenerateRequest.DefaultMaxTokens,
                Temperature = parse.GetValue(temperature),
                Features = requirements.Read(parse),
            };
            return async (client, _) =>
            {
                Gateway.GenerateResult result;
                try
                {
                    result = await client.GenerateAsync(request);
                }
                catch (Gateway.GenerationFailedException failed)
                {
                    throw Failed("generation", failed);
                }
                AnsiConsole.WriteLine(result.Text);
                AnsiConsole.MarkupLineInterpolated($"[bold]{result.Model}[/]{(result.Simulated ? " (simulated)" : "")}: {result.Decision.Reasoning}");
                var table = new Table().AddColumns("request id", "latency s", "ttft s", "input tokens", "output tokens", "cost", "attempts");
                table.AddRow(Markup.Escape(result.RequestId), F(result.LatencySeconds), F(result.TtftSeconds), F(result.Usage.InputTokens), F(result.Usage.OutputTokens),
                    result.Cost.ToString("0.######", CultureInfo.InvariantCulture), string.Join(", ", result.Attempts.Select(a => a.Success ? a.Model : $"{a.Model} ({a.ErrorKind})")));
                AnsiConsole.Write(table);
            };
        });
    }

    public static Command Embed()
    {
        var words = new Argument<string[]>("text") { Description = "The text to embed: the words after the command, joined by spaces", Arity = ArgumentArity.ZeroOrMore };
        var model = new Option<string>("--model")
        {
            Description = "auto (adaptive routing over the catalog's embedding models) or an embedding model's id (no fallback to others)", DefaultValueFactory = _ => "auto",
        };
        var dimensions = new Option<long?>("--dimensions") { Description = "The vector's length; the model's own when not given", HelpName = "n", CustomParser = Cli.OptionalNumber<long> };
        return new Command("embed", "Route, embed the text, print the vector's length and first values, the model and the usage") { words, model, dimensions }
            .SetClusterAction(parse =>
            {
                var named = parse.GetValue(model) is "auto" or null ? null : parse.GetValue(model);
                var request = new Gateway.EmbedRequest
                {
                    Inputs = [parse.GetValue(words) is { Length: > 0 } rest ? string.Join(' ', rest) : throw new ArgumentException("A text is required: kyros-perf embed \"your text\".", "text")],
                    Model = named,
                    Strategy = named is null ? Routing.RoutingStrategy.Adaptive : Routing.RoutingStrategy.Balanced,
                    Dimensions = parse.GetValue(dimensions) is { } n ? Gateway.EmbeddingValidator.Dimensions(n, "--dimensions") : null,
                };
                return async (client, _) =>
                {
                    Gateway.EmbedResult result;
                    try
                    {
                        result = await client.EmbedAsync(request);
                    }
                    catch (Gateway.GenerationFailedException failed)
                    {
                        throw Failed("embedding", failed);
                    }
                    var vector = result.Vectors[0];
                    AnsiConsole.WriteLine($"[{string.Join(", ", vector.Take(8).Select(v => v.ToString("0.######", CultureInfo.InvariantCulture)))}{(vector.Length > 8 ? ", ..." : "")}]");
                    AnsiConsole.MarkupLineInterpolated($"[bold]{result.Model}[/]{(result.Simulated ? " (simulated)" : "")}: {result.Decision.Reasoning}");
                    var table = new Table().AddColumns("request id", "dimensions", "latency s", "input tokens", "cost", "attempts");
                    table.AddRow(Markup.Escape(result.RequestId), F(vector.Length), F(result.LatencySeconds), F(result.Usage.InputTokens),
                        result.Cost.ToString("0.########", CultureInfo.InvariantCulture), string.Join(", ", result.Attempts.Select(a => a.Success ? a.Model : $"{a.Model} ({a.ErrorKind})")));
                    AnsiConsole.Write(table);
                };
            });
    }

    /// <summary>Every model failed or refused: the attempts as a table, and the error that exits the command.</summary>
    private static ArgumentException Failed(string what, Gateway.GenerationFailedException failed)
    {
        var attempts = new Table().AddColumns("model", "error", "seconds");
        foreach (var a in failed.Attempts) attempts.AddRow(Markup.Escape(a.Model), Markup.Escape(a.Error ?? ""), F(a.LatencySeconds));
        AnsiConsole.Write(attempts);
        return new ArgumentException($"The {what} failed ({failed.Status}): {failed.Message}");
    }

    public static Command Feedback()
    {
        var requestId = new Option<string>("--request-id") { Description = "The id of an earlier generation", Required = true };
        var score = new Option<double>("--score") { Description = "Its quality score, 0-1", HelpName = "0-1", Required = true, CustomParser = Cli.Number<double> };
        return new Command("feedback", "A quality score for an earlier generation") { requestId, score }.SetClusterAction(parse =>
        {
            var id = parse.GetRequiredValue(requestId);
            var value = parse.GetValue(score);
            return async (client, _) => AnsiConsole.WriteLine(await client.FeedbackAsync(id, value) ? "recorded" : "already scored: the first score stands");
        });
    }

    /// <summary>The routing strategy, checked by the SDK (so its message names the choices).</summary>
    private static Option<string> Strategy() => new("--strategy")
    {
        Description = $"How to weigh latency, quality and cost: {string.Join(", ", Routing.RoutingStrategies.Names)}",
        DefaultValueFactory = _ => "balanced",
    };

    /// <summary>The request's requirements as <c>route</c> and <c>generate</c> both take them.</summary>
    private sealed class RequirementOptions
    {
        private readonly Option<double> _creativity = new("--creativity")
        {
            Description = "How much creativity the request needs, 0-1", HelpName = "0-1", DefaultValueFactory = _ => 0, CustomParser = Cli.Number<double>,
        };
        private readonly Option<double> _reasoning = new("--reasoning")
        {
            Description = "How much reasoning the request needs, 0-1", HelpName = "0-1", DefaultValueFactory = _ => 0, CustomParser = Cli.Number<double>,
        };
        private readonly Option<bool> _requiresCode = new("--requires-code") { Description = "Only models that can write code" };
        private readonly Option<bool> _requiresVision = new("--requires-vision") { Description = "Only models that take images" };
        private readonly Option<bool> _requiresTools = new("--requires-tools") { Description = "Only models that can call tools" };
        private readonly Option<double?> _maxLatency = new("--max-latency")
        {
            Description = "Leave out models whose expected p95 latency is longer, in seconds", HelpName = "seconds", CustomParser = Cli.OptionalNumber<double>,
        };
        private readonly Option<double?> _maxCost = new("--max-cost")
        {
            Description = "Leave out models whose expected cost for this request is higher", HelpName = "cost", CustomParser = Cli.OptionalNumber<double>,
        };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _creativity, _reasoning, _requiresCode, _requiresVision, _requiresTools, _maxLatency, _maxCost })
                command.Options.Add(option);
        }

        public Routing.RequestFeatures Read(ParseResult parse) => new()
        {
            CreativityRequirement = parse.GetValue(_creativity),
            ReasoningRequirement = parse.GetValue(_reasoning),
            RequiresCode = parse.GetValue(_requiresCode),
            RequiresVision = parse.GetValue(_requiresVision),
            RequiresTools = parse.GetValue(_requiresTools),
            MaxLatency = parse.GetValue(_maxLatency),
            MaxCost = parse.GetValue(_maxCost),
        };
    }

    /// <summary>A figure for a table: whole numbers from 100 up, else up to <paramref name="decimals"/> decimals; "-" for none.</summary>
    internal static string F(double? value, int decimals = 4) => value switch
    {
        null => "-",
        >= 100 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.Value.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture),
    };

    private static string P(double rate) => rate.ToString("0.0%", CultureInfo.InvariantCulture);
}
