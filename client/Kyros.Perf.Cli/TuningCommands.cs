using System.CommandLine;
using Kyros.Perf.Client;
using Kyros.Perf.Tuning;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary><c>kyros-perf tune status|run|apply|reject|rollback|history</c>: the tuner, its recommendations and their control.</summary>
public static class TuningCommands
{
    public static Command Tune() => new("tune", "The tuner: its state, a cycle now, and control of its recommendations")
    {
        Status(), Run(), Decide("apply", "Apply a proposed recommendation", (c, id) => c.ApplyAsync(id)),
        Decide("reject", "Reject a proposed recommendation", (c, id) => c.RejectAsync(id)),
        Decide("rollback", "Roll back an applied or kept recommendation", (c, id) => c.RollbackAsync(id)), History(),
    };

    private static Command Status() =>
        new Command("status", "The configuration, the schedule, changes under evaluation and recent recommendations").SetClusterAction(_ => async (client, _) =>
        {
            var s = await client.GetTuningStatusAsync();
            var c = s.Configuration;
            AnsiConsole.MarkupLineInterpolated(
                $"tuner on {s.Silo}: {(c.Enabled ? "enabled" : "disabled")}, every {c.TuningIntervalMinutes} min, auto_apply {c.AutoApply}, {s.Cycles} cycles");
            AnsiConsole.MarkupLineInterpolated(
                $"gates: confidence >= {c.ConfidenceThreshold}, impact >= {c.ImpactThreshold}, at most {c.MaxConcurrentTunings} under evaluation; learning_rate {c.LearningRate}, safety_margin {c.SafetyMargin}, evaluation {c.EvaluationMinutes} min");
            AnsiConsole.MarkupLineInterpolated($"last cycle {s.LastCycle?.ToString("u") ?? "never"}, next {s.NextCycle?.ToString("u") ?? "-"}");
            Print(s.Recent);
        });

    private static Command Run() =>
        new Command("run", "Run a cycle now and print its recommendations").SetClusterAction(_ => async (client, _) =>
        {
            var r = await client.RunTuningCycleAsync();
            AnsiConsole.MarkupLineInterpolated($"cycle read {r.ModelsRead} models and {r.HostsRead} hosts in {r.DurationMs:0} ms ({r.GrainCalls} grain calls)");
            Print([.. r.Recommendations, .. r.Evaluated]);
        });

    private static Command Decide(string name, string description, Func<KyrosPerfClient, string, Task<TuningRecommendation>> act)
    {
        var id = new Argument<string>("id") { Description = "The recommendation's id (tun-...)" };
        return new Command(name, description) { id }.SetClusterAction(parse =>
        {
            var value = TuningValidator.RequireId(parse.GetValue(id));
            return async (client, _) => Print([await act(client, value)]);
        });
    }

    private static Command History()
    {
        var since = new Option<string>("--since") { Description = "How far back, as a window (1h, 24h)", DefaultValueFactory = _ => "24h" };
        return new Command("history", "Every recommendation, change, keep and rollback over a window") { since }.SetClusterAction(parse =>
        {
            var window = Common.TimeWindow.Parse(parse.GetValue(since), "since");
            return async (client, _) =>
            {
                var now = DateTimeOffset.UtcNow;
                var history = await client.GetTuningHistoryAsync(now - window, now);
                var table = new Table().AddColumns("time", "id", "status", "action", "target", "value", "why");
                foreach (var h in history)
                {
                    var r = h.Recommendation;
                    table.AddRow(h.Timestamp.ToString("u"), r.Id, TuningStatuses.Name(r.Status), r.Action, Markup.Escape(r.Target), Value(r), Markup.Escape(r.Outcome ?? r.Reasoning));
                }
                AnsiConsole.Write(table);
            };
        });
    }

    private static void Print(IReadOnlyList<TuningRecommendation> recommendations)
    {
        if (recommendations.Count == 0)
        {
            AnsiConsole.MarkupLine("no recommendations");
            return;
        }
        var table = new Table().AddColumns("id", "status", "action", "target", "value", "confidence", "impact", "reasoning");
        foreach (var r in recommendations)
            table.AddRow(r.Id, TuningStatuses.Name(r.Status), r.Action, Markup.Escape(r.Target), Value(r), Commands.F(r.Confidence, 3), Commands.F(r.ExpectedImpact, 3),
                Markup.Escape(r.Outcome ?? r.Reasoning));
        AnsiConsole.Write(table);
    }

    private static string Value(TuningRecommendation r) => r.RecommendedWeights is { } w
        ? $"{W(r.CurrentWeights)} -> {W(w)}"
        : r.RecommendedValue is null ? "-" : $"{Commands.F(r.CurrentValue)} -> {Commands.F(r.RecommendedValue)}";

    private static string W(Routing.RoutingWeights? w) => w is { } v ? $"{v.Latency:0.00}/{v.Quality:0.00}/{v.Cost:0.00}" : "default";
}
