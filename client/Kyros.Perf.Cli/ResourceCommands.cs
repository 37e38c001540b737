using System.CommandLine;
using System.Globalization;
using Kyros.Perf.Alerts;
using Kyros.Perf.Client;
using Kyros.Perf.Common;
using Kyros.Perf.HostSampling;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary>The commands on hosts' resources and alerts; each one's options and action in one place.</summary>
public static class ResourceCommands
{
    private const int MaxPending = 1_000;
    /// <summary>Kept samples older than this are dropped: the silo keeps an hour by default and refuses older ones.</summary>
    private static readonly TimeSpan MaxPendingAge = TimeSpan.FromMinutes(55);

    /// <summary>Samples this host with the silo's own sampler and pushes the samples; keeps them while the cluster is away.</summary>
    public static Command Agent()
    {
        var node = new Option<string>("--node") { Description = "The name this host's samples go under", HelpName = "name", DefaultValueFactory = _ => Environment.MachineName };
        var group = new Option<string>("--group") { Description = "The group of hosts it belongs to, for scaling advice", DefaultValueFactory = _ => "default" };
        var interval = new Option<double>("--interval")
        {
            Description = "Seconds between samples, 1-600", HelpName = "seconds", DefaultValueFactory = _ => 5, CustomParser = Cli.Number<double>,
        };
        var count = new Option<long?>("--count") { Description = "Stop after this many samples (default: go on until Ctrl+C)", HelpName = "samples", CustomParser = Cli.OptionalNumber<long> };
        return new Command("agent", "Sample this host and push the samples (a host without a silo)") { node, group, interval, count }.SetClusterAction(parse =>
        {
            var nodeName = parse.GetRequiredValue(node);
            var groupName = parse.GetRequiredValue(group);
            var every = TimeSpan.FromSeconds(parse.GetValue(interval));
            var samples = parse.GetValue(count);
            ResourceValidator.RequireNodeName(nodeName);
            ResourceValidator.RequireNodeName(groupName, "group");
            if (every < TimeSpan.FromSeconds(1) || every > TimeSpan.FromMinutes(10)) throw new ArgumentException("--interval must be within 1..600 seconds.");
            if (samples < 1) throw new ArgumentException("--count must be at least 1.");
            return (client, cancellationToken) => PushSamplesAsync(client, nodeName, groupName, every, samples, cancellationToken);
        });
    }

    private static async Task PushSamplesAsync(KyrosPerfClient client, string node, string group, TimeSpan interval, long? count, CancellationToken cancellationToken)
    {
        var sampler = new HostResourceSampler(new GpuReader("nvidia-smi", NullLogger<GpuReader>.Instance), TimeProvider.System);
        await sampler.SampleAsync(node, group, cancellationToken); // the baseline rates are measured from
        var pending = new List<ResourceSample>();
        for (long pushed = 0; count is null || pushed < count; pushed++)
        {
            await Task.Delay(interval, cancellationToken);
            pending.Add(await sampler.SampleAsync(node, group, cancellationToken));
            pending.RemoveAll(s => s.Timestamp < DateTimeOffset.UtcNow - MaxPendingAge);
            if (pending.Count > MaxPending) pending.RemoveRange(0, pending.Count - MaxPending);
            try
            {
                await client.PushSamplesAsync(node, pending);
                var s = pending[^1];
                AnsiConsole.MarkupLineInterpolated(
                    $"{s.Timestamp:HH:mm:ss} {node}: cpu {s.CpuPercent:0.0}%, memory {s.MemoryPercent:0.0}%, {s.Disks.Count} disk(s), {s.Networks.Count} interface(s), {s.Gpus.Count} GPU(s) (pushed {pending.Count})");
                pending.Clear();
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]cluster unreachable, keeping {pending.Count} sample(s):[/] {e.Message}");
            }
            catch (ArgumentException e)
            {
                // Refused, most likely because an earlier push that timed out was taken after all: these are not sent again.
                AnsiConsole.MarkupLineInterpolated($"[yellow]{pending.Count} sample(s) refused and dropped:[/] {ArgumentErrors.DetailOf(e)}");
                pending.Clear();
            }
        }
    }

    public static Command Alerts()
    {
        var follow = new Option<bool>("--follow") { Description = "Print alerts as they are raised and cleared, until Ctrl+C" };
        var active = new Option<bool>("--active") { Description = "Only the alerts active now" };
        var level = new Option<string>("--level") { Description = "The lowest level shown: info, warning, critical or emergency" };
        var node = new Option<string>("--node") { Description = "One host's alerts" };
        var limit = new Option<int>("--limit") { Description = "The most events shown", HelpName = "events", DefaultValueFactory = _ => 50, CustomParser = Cli.Number<int> };
        return new Command("alerts", "The alert log, or alerts as they come") { follow, active, level, node, limit, Notifications(), ModelRules() }.SetClusterAction(parse =>
        {
            var following = parse.GetValue(follow);
            var query = new AlertQuery(
                ActiveOnly: parse.GetValue(active),
                MinimumLevel: parse.GetValue(level) is { } minimum ? AlertLevels.Parse(minimum, "--level") : null,
                Node: parse.GetValue(node),
                Limit: parse.GetValue(limit));
            return following ? (client, cancellationToken) => FollowAsync(client, query, cancellationToken) : (client, _) => PrintAsync(client, query);
        });
    }

    /// <summary><c>alerts notifications</c>: each notification target's delivery, never its URL.</summary>
    private static Command Notifications() =>
        new Command("notifications", "Each notification target: queued, sent, failed, the head's attempts, the last error and the next try").SetClusterAction(_ =>
            async (client, _) =>
            {
                var targets = await client.GetNotificationTargetsAsync();
                if (targets.Count == 0)
                {
                    AnsiConsole.MarkupLine("No notification targets are configured (Kyros:Notifications).");
                    return;
                }
                var table = new Table().AddColumns("target", "kind", "queued", "sent", "failed", "dropped", "attempts", "last error", "last sent", "next try");
                foreach (var t in targets)
                    table.AddRow(Markup.Escape(t.Name), t.Kind, N(t.Queued), N(t.Sent), N(t.Failed), N(t.Dropped), N(t.HeadAttempts), Markup.Escape(t.LastError ?? "-"),
                        T(t.LastSentAt), T(t.NextTryAt));
                AnsiConsole.Write(table);
            });

    /// <summary><c>alerts rules</c>: the cluster's model alert rules; with a rule and levels, sets that rule on every silo.</summary>
    private static Command ModelRules()
    {
        var rule = new Argument<string>("rule") { Description = $"The rule to set: {string.Join(", ", ModelAlertRules.Names)}", Arity = ArgumentArity.ZeroOrOne };
        var warning = new Option<double?>("--warning")
        {
            Description = "The warning level (the rule's unit: % for error_rate, a factor for the latency rules, a burn rate)", HelpName = "level", CustomParser = Cli.OptionalNumber<double>,
        };
        var critical = new Option<double?>("--critical") { Description = "The critical level, above the warning", HelpName = "level", CustomParser = Cli.OptionalNumber<double> };
        var minCalls = new Option<int?>("--min-calls") { Description = "The fewest calls in the window the rule judges by", HelpName = "calls", CustomParser = Cli.OptionalNumber<int> };
        return new Command("rules", "The model alert rules, or one rule set to new levels") { rule, warning, critical, minCalls }.SetClusterAction(parse =>
        {
            var name = parse.GetValue(rule);
            var (w, c, m) = (parse.GetValue(warning), parse.GetValue(critical), parse.GetValue(minCalls));
            if (name is null && (w ?? c ?? m) is not null) throw new ArgumentException("Name the rule to set: kyros-perf alerts rules <rule> --warning …", "rule");
            return async (client, _) =>
            {
                var snapshot = await client.GetModelAlertRulesAsync();
                if (name is not null)
                {
                    // The levels not given stay as they are.
                    var current = snapshot.Rules.Of(name);
                    snapshot = await client.SetModelAlertRuleAsync(name, new ModelRuleLevels(w ?? current.Warning, c ?? current.Critical, m ?? current.MinCalls));
                }
                var table = new Table().AddColumns("rule", "warning", "critical", "min calls");
                foreach (var r in ModelAlertRules.Names)
                {
                    var levels = snapshot.Rules.Of(r);
                    table.AddRow(r, F(levels.Warning), F(levels.Critical), N(levels.MinCalls));
                }
                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine($"version {snapshot.Version}");
            };
        });
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);
    private static string T(DateTimeOffset? at) => at?.ToString("u", CultureInfo.InvariantCulture) ?? "-";

    private static async Task FollowAsync(KyrosPerfClient client, AlertQuery query, CancellationToken cancellationToken)
    {
        await using var subscription = await client.SubscribeAlertsAsync(alert =>
        {
            if (query.Matches(alert))
                AnsiConsole.MarkupLineInterpolated($"{alert.Timestamp:HH:mm:ss} [bold]{alert.Kind.ToString().ToLowerInvariant()}[/] {AlertLevels.Name(alert.Level)} {alert.Node} {alert.Series}: {alert.Message}");
            return Task.CompletedTask;
        });
        AnsiConsole.MarkupLine("following alerts; Ctrl+C stops");
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private static async Task PrintAsync(KyrosPerfClient client, AlertQuery query)
    {
        var page = await client.GetAlertsAsync(query);
        var active = new Table().AddColumns("level", "node", "series", "since", "value");
        foreach (var a in page.Active) active.AddRow(a.Level.ToString(), Markup.Escape(a.Node), Markup.Escape(a.Series), a.Since.ToString("u", CultureInfo.InvariantCulture), F(a.Value));
        AnsiConsole.Write(active);
        var events = new Table().AddColumns("time", "kind", "level", "node", "message");
        foreach (var e in page.Events)
            events.AddRow(e.Timestamp.ToString("u", CultureInfo.InvariantCulture), e.Kind.ToString(), e.Level.ToString(), Markup.Escape(e.Node), Markup.Escape(e.Message));
        AnsiConsole.Write(events);
    }

    public static Command Resources()
    {
        var node = new Option<string>("--node") { Description = "One host's figures; without it, every host's" };
        var window = new Option<string>("--window") { Description = "The window: whole minutes, hours or days such as 5m, 1h or 24h", DefaultValueFactory = _ => "15m" };
        return new Command("resources", "Hosts' CPU, memory, disks, network, GPUs, patterns and scaling advice") { node, window }.SetClusterAction(parse =>
        {
            var name = parse.GetValue(node);
            var span = TimeWindow.Parse(parse.GetValue(window));
            return async (client, _) =>
            {
                IReadOnlyList<NodeSummary> nodes = name is null ? (await client.GetResourceSummaryAsync(span)).Nodes : [await client.GetNodeSummaryAsync(name, span)];
                var table = new Table().AddColumns("node", "series", "samples", "min", "mean", "p95", "max", "latest");
                foreach (var n in nodes)
                    foreach (var m in n.Metrics)
                        table.AddRow(Markup.Escape(n.Node), Markup.Escape(m.Series), m.Samples.ToString(CultureInfo.InvariantCulture), F(m.Min), F(m.Mean), F(m.P95), F(m.Max), F(m.Latest) + m.Unit);
                AnsiConsole.Write(table);
                foreach (var p in nodes.SelectMany(n => n.Patterns))
                    AnsiConsole.MarkupLineInterpolated($"pattern {p.Kind} (confidence {p.Confidence:0.00}): {p.Description}");
                foreach (var r in await client.GetScalingAsync())
                    AnsiConsole.MarkupLineInterpolated($"scaling {r.Scope}: {r.Action} (confidence {r.Confidence:0.00}) - {r.Reason}");
            };
        });
    }

    private static string F(double value) => Commands.F(value, decimals: 2);
}
