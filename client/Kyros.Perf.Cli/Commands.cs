using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Client;
using Kyros.Perf.Models;
using Spectre.Console;

namespace Kyros.Perf.Cli;

public static class Commands
{
    public static async Task StatusAsync(KyrosPerfClient client, CommandLine line)
    {
        line.RejectUnknown();
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
    }

    public static async Task RecordAsync(KyrosPerfClient client, CommandLine line)
    {
        var record = new ModelPerformanceRecord(
            Model: line.RequiredText("model"),
            Instance: line.Text("instance"),
            Timestamp: DateTimeOffset.UtcNow,
            ExecutionTime: line.Number("execution-time") ?? throw new ArgumentException("--execution-time is required."),
            TimeToFirstToken: line.Number("ttft"),
            InputTokens: line.Integer("input-tokens") ?? 0,
            OutputTokens: line.Integer("output-tokens") ?? 0,
            Success: line.Text("error-kind") is null,
            ErrorKind: line.Text("error-kind"),
            Cost: line.Number("cost") ?? 0,
            QualityScore: line.Number("quality"),
            RequestId: line.Text("request-id") ?? $"cli-{Guid.NewGuid():N}");
        line.RejectUnknown();
        var result = await client.RecordAsync(record);
        var table = new Table().AddColumns("model", "request id", "recorded", "duplicates");
        table.AddRow(Markup.Escape(record.Model), Markup.Escape(record.RequestId), F(result.Recorded), F(result.Duplicates));
        AnsiConsole.Write(table);
    }

    public static async Task SummaryAsync(KyrosPerfClient client, CommandLine line)
    {
        var model = line.Text("model");
        var window = TimeWindow.Parse(line.Text("window") ?? "1h");
        line.RejectUnknown();
        IReadOnlyList<ModelSummary> rows = model is null
            ? await client.GetClusterSummaryAsync(window) is var cluster ? [.. cluster.Models, cluster.Cluster] : []
            : [await client.GetSummaryAsync(model, window)];

        var table = new Table().AddColumns("model", "count", "errors", "p50 s", "p95 s", "p99 s", "max s", "ttft p95 s", "req/s", "out tok/s", "cost", "quality (n)", "last");
        foreach (var s in rows)
            table.AddRow(Markup.Escape(s.Model), F(s.Count), P(s.ErrorRate), F(s.Latency.P50), F(s.Latency.P95), F(s.Latency.P99), F(s.Latency.Max),
                F(s.Ttft.P95), F(s.Throughput.RequestsPerSecond), F(s.Throughput.OutputTokensPerSecond), F(s.Cost.Total),
                s.Quality.Mean is null ? "-" : $"{F(s.Quality.Mean)} ({s.Quality.Count})", s.LastTimestamp?.ToString("HH:mm:ss", CultureInfo.InvariantCulture) ?? "-");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"window {TimeWindow.Format(window)}, from {rows[0].WindowStart:u} to {rows[0].WindowEnd:u}");
    }

    public static async Task RouteAsync(KyrosPerfClient client, CommandLine line)
    {
        var models = line.Text("models");
        var request = new Routing.RoutingRequest(
            Requirements(line) with
            {
                Prompt = line.Text("prompt"),
                EstimatedTokens = line.Integer("estimated-tokens"),
                OutputTokens = line.Integer("output-tokens") ?? Routing.RequestFeatures.DefaultOutputTokens,
                Stream = line.Flag("stream"),
            },
            models?.Split(',', StringSplitOptions.TrimEntries),
            Routing.RoutingStrategies.Parse(line.Text("strategy")));
        line.RejectUnknown();
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
    }

    public static async Task HealthAsync(KyrosPerfClient client, CommandLine line)
    {
        line.RejectUnknown();
        var state = await client.GetRouterStateAsync();
        var table = new Table().AddColumns("model", "health", "why", "requests this minute", "tokens this minute", "live samples (5 min)", "statistics age s", "host alert");
        foreach (var m in state.Models)
        {
            var why = m.CoolingUntil is { } until ? $"{m.Reason}; until {until:HH:mm:ss}" : m.Reason ?? "";
            table.AddRow(Markup.Escape(m.Model), m.Health.ToString(), Markup.Escape(why), Used(m.RequestsThisMinute, m.RequestsPerMinute),
                Used(m.TokensThisMinute, m.TokensPerMinute), F(m.Samples), m.StatsAgeSeconds is { } age ? F(age) : "-", m.HostAlert.ToString());
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"router of silo {state.Silo}; snapshot {F(state.SnapshotAgeSeconds)} s old");

        static string Used(long? used, long? limit) => limit is { } l ? $"{used ?? 0} of {l}" : "no limit";
    }

    public static async Task GenerateAsync(KyrosPerfClient client, CommandLine line)
    {
        var request = new Gateway.GenerateRequest
        {
            Prompt = line.Rest() ?? line.Text("prompt") ?? throw new ArgumentException("A prompt is required: kyros-perf generate \"your prompt\"."),
            Strategy = Routing.RoutingStrategies.Parse(line.Text("strategy")),
            Model = line.Text("model"),
            MaxTokens = Gateway.GatewayValidator.MaxTokens(line.Integer("max-tokens"), "--max-tokens") ?? Gateway.GenerateRequest.DefaultMaxTokens,
            Temperature = line.Number("temperature"),
            Features = Requirements(line),
        };
        line.RejectUnknown();
        Gateway.GenerateResult result;
        try
        {
            result = await client.GenerateAsync(request);
        }
        catch (Gateway.GenerationFailedException failed)
        {
            var attempts = new Table().AddColumns("model", "error", "seconds");
            foreach (var a in failed.Attempts) attempts.AddRow(Markup.Escape(a.Model), Markup.Escape(a.Error ?? ""), F(a.LatencySeconds));
            AnsiConsole.Write(attempts);
            throw new ArgumentException($"The generation failed ({failed.Status}): {failed.Message}");
        }
        AnsiConsole.WriteLine(result.Text);
        AnsiConsole.MarkupLineInterpolated($"[bold]{result.Model}[/]{(result.Simulated ? " (simulated)" : "")}: {result.Decision.Reasoning}");
        var table = new Table().AddColumns("request id", "latency s", "ttft s", "input tokens", "output tokens", "cost", "attempts");
        table.AddRow(Markup.Escape(result.RequestId), F(result.LatencySeconds), F(result.TtftSeconds), F(result.Usage.InputTokens), F(result.Usage.OutputTokens),
            result.Cost.ToString("0.######", CultureInfo.InvariantCulture), string.Join(", ", result.Attempts.Select(a => a.Success ? a.Model : $"{a.Model} ({a.ErrorKind})")));
        AnsiConsole.Write(table);
    }

    public static async Task FeedbackAsync(KyrosPerfClient client, CommandLine line)
    {
        var requestId = line.RequiredText("request-id");
        var score = line.Number("score") ?? throw new ArgumentException("--score is required (0-1).");
        line.RejectUnknown();
        AnsiConsole.WriteLine(await client.FeedbackAsync(requestId, score) ? "recorded" : "already scored: the first score stands");
    }

    /// <summary>The request's requirements as <c>route</c> and <c>generate</c> both take them.</summary>
    private static Routing.RequestFeatures Requirements(CommandLine line) => new()
    {
        CreativityRequirement = line.Number("creativity") ?? 0,
        ReasoningRequirement = line.Number("reasoning") ?? 0,
        RequiresCode = line.Flag("requires-code"),
        RequiresVision = line.Flag("requires-vision"),
        RequiresTools = line.Flag("requires-tools"),
        MaxLatency = line.Number("max-latency"),
        MaxCost = line.Number("max-cost"),
    };

    /// <summary>A figure for a table: whole numbers from 100 up, else up to <paramref name="decimals"/> decimals; "-" for none.</summary>
    internal static string F(double? value, int decimals = 4) => value switch
    {
        null => "-",
        >= 100 => value.Value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.Value.ToString("0." + new string('#', decimals), CultureInfo.InvariantCulture),
    };

    private static string P(double rate) => rate.ToString("0.0%", CultureInfo.InvariantCulture);
}
