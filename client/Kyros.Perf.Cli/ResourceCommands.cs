using System.Globalization;
using Kyros.Perf.Client;
using Kyros.Perf.Models;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace Kyros.Perf.Cli;

public static class ResourceCommands
{
    private const int MaxPending = 1_000;
    /// <summary>Kept samples older than this are dropped: the silo keeps an hour by default and refuses older ones.</summary>
    private static readonly TimeSpan MaxPendingAge = TimeSpan.FromMinutes(55);

    /// <summary>Samples this host with the silo's own sampler and pushes the samples; keeps them while the cluster is away.</summary>
    public static async Task AgentAsync(KyrosPerfClient client, CommandLine line, CancellationToken cancellationToken)
    {
        var node = line.Text("node") ?? Environment.MachineName;
        var group = line.Text("group") ?? "default";
        var interval = TimeSpan.FromSeconds(line.Number("interval") ?? 5);
        var count = line.Integer("count");
        line.RejectUnknown();
        ResourceValidator.RequireNodeName(node);
        ResourceValidator.RequireNodeName(group, "group");
        if (interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromMinutes(10)) throw new ArgumentException("--interval must be within 1..600 seconds.");
        if (count < 1) throw new ArgumentException("--count must be at least 1.");

        var sampler = new HostResourceSampler(new GpuReader(Options.Create(new ResourceOptions()), NullLogger<GpuReader>.Instance), TimeProvider.System);
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
                AnsiConsole.MarkupLineInterpolated($"[yellow]{pending.Count} sample(s) refused and dropped:[/] {Kyros.Perf.Models.ArgumentErrors.DetailOf(e)}");
                pending.Clear();
            }
        }
    }

    public static async Task AlertsAsync(KyrosPerfClient client, CommandLine line, CancellationToken cancellationToken)
    {
        var follow = line.Flag("follow");
        var query = new AlertQuery(
            ActiveOnly: line.Flag("active"),
            MinimumLevel: line.Text("level") is { } level ? AlertLevels.Parse(level, "--level") : null,
            Node: line.Text("node"),
            Limit: (int)(line.Integer("limit") ?? 50));
        line.RejectUnknown();
        if (follow)
        {
            await using var subscription = await client.SubscribeAlertsAsync(alert =>
            {
                if (query.Matches(alert))
                    AnsiConsole.MarkupLineInterpolated($"{alert.Timestamp:HH:mm:ss} [bold]{alert.Kind.ToString().ToLowerInvariant()}[/] {AlertLevels.Name(alert.Level)} {alert.Node} {alert.Series}: {alert.Message}");
                return Task.CompletedTask;
            });
            AnsiConsole.MarkupLine("following alerts; Ctrl+C stops");
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            return;
        }
        var page = await client.GetAlertsAsync(query);
        var active = new Table().AddColumns("level", "node", "series", "since", "value");
        foreach (var a in page.Active) active.AddRow(a.Level.ToString(), Markup.Escape(a.Node), Markup.Escape(a.Series), a.Since.ToString("u", CultureInfo.InvariantCulture), F(a.Value));
        AnsiConsole.Write(active);
        var events = new Table().AddColumns("time", "kind", "level", "node", "message");
        foreach (var e in page.Events)
            events.AddRow(e.Timestamp.ToString("u", CultureInfo.InvariantCulture), e.Kind.ToString(), e.Level.ToString(), Markup.Escape(e.Node), Markup.Escape(e.Message));
        AnsiConsole.Write(events);
    }

    public static async Task ResourcesAsync(KyrosPerfClient client, CommandLine line)
    {
        var node = line.Text("node");
        var window = TimeWindow.Parse(line.Text("window") ?? "15m");
        line.RejectUnknown();
        IReadOnlyList<NodeSummary> nodes = node is null ? (await client.GetResourceSummaryAsync(window)).Nodes : [await client.GetNodeSummaryAsync(node, window)];
        var table = new Table().AddColumns("node", "series", "samples", "min", "mean", "p95", "max", "latest");
        foreach (var n in nodes)
            foreach (var m in n.Metrics)
                table.AddRow(Markup.Escape(n.Node), Markup.Escape(m.Series), m.Samples.ToString(CultureInfo.InvariantCulture), F(m.Min), F(m.Mean), F(m.P95), F(m.Max), F(m.Latest) + m.Unit);
        AnsiConsole.Write(table);
        foreach (var p in nodes.SelectMany(n => n.Patterns))
            AnsiConsole.MarkupLineInterpolated($"pattern {p.Kind} (confidence {p.Confidence:0.00}): {p.Description}");
        foreach (var r in await client.GetScalingAsync())
            AnsiConsole.MarkupLineInterpolated($"scaling {r.Scope}: {r.Action} (confidence {r.Confidence:0.00}) - {r.Reason}");
    }

    private static string F(double value) => Commands.F(value, decimals: 2);
}
