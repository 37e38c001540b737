using System.Globalization;
using System.Text;
using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>GET /metrics</c>: every catalog model's figures over a window (<c>?window=</c>, default 5m) in the Prometheus
/// text format. They are gauges over the window (this product keeps windows, not lifetime counters), labelled with it.
/// Every silo answers for the whole cluster, so scrape one silo (or the service in front of them).
/// </summary>
public static class MetricsEndpoint
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(5);

    public static void MapMetricsEndpoint(this IEndpointRouteBuilder app) => app.MapGet("/metrics", async (string? window, IGrainFactory grains, Keys.ApiKeyRing ring) =>
    {
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        var summary = grains.GetGrain<IPerformanceSummaryGrain>(0).GetClusterSummaryAsync(span);
        // Hosts: each series' latest value from the last minute, so a host that stopped reporting drops out.
        var hosts = grains.GetGrain<IResourceSummaryGrain>(0).GetClusterSummaryAsync(TimeWindow.Min);
        var keys = Keys.KeySpendReport.ReadAsync(grains, ring);
        var notifications = grains.GetGrain<Alerts.INotificationTargetsGrain>(0).GetTargetsAsync();
        return Results.Text(Render(await summary) + RenderHosts(await hosts) + RenderKeys(await keys) + RenderNotifications(await notifications),
            "text/plain; version=0.0.4; charset=utf-8");
    });

    /// <summary>Each run-time key's figures for its budget period, by name (never its secret), per model where they split.</summary>
    public static string RenderKeys(IReadOnlyList<Keys.KeySpend> keys)
    {
        var text = new StringBuilder();
        if (keys.Count == 0) return "";
        Family(text, "kyros_key_spend_usd", "Spend in the key's budget period, in US dollars, by model.", keys, KeyLabels,
            k => k.Usage.Models.Select(m => ($"model=\"{Escape(m.Model)}\"", (double?)m.SpendUsd)));
        Family(text, "kyros_key_budget_usd", "The key's budget for its period, in US dollars.", keys, KeyLabels, k => [("", k.Usage.BudgetUsd)]);
        Family(text, "kyros_key_remaining_usd", "What the key may still spend in its period (budget less spent and held).", keys, KeyLabels, k => [("", k.Usage.RemainingUsd)]);
        Family(text, "kyros_key_reserved_usd", "Worst-case cost held by the key's calls in flight.", keys, KeyLabels, k => [("", k.Usage.ReservedUsd)]);
        Family(text, "kyros_key_requests", "Calls to models in the key's budget period, by model.", keys, KeyLabels,
            k => k.Usage.Models.Select(m => ($"model=\"{Escape(m.Model)}\"", (double?)m.Requests)));
        Family(text, "kyros_key_tokens", "Tokens in the key's budget period, by model.", keys, KeyLabels,
            k => k.Usage.Models.SelectMany(m => new[]
            {
                ($"model=\"{Escape(m.Model)}\",direction=\"input\"", (double?)m.InputTokens), ($"model=\"{Escape(m.Model)}\",direction=\"output\"", m.OutputTokens),
            }));
        Family(text, "kyros_key_refused", "Calls the key's account refused since its activation (budget, requests or tokens a minute).", keys, KeyLabels,
            k => [("", k.Usage.Refused)]);
        return text.ToString();
    }

    private static string KeyLabels(Keys.KeySpend key) => $"key=\"{Escape(key.Name)}\",period=\"{key.Usage.Period}\"";

    private static string ModelLabels(ModelSummary model) => $"model=\"{Escape(model.Model)}\",window=\"{model.Window}\"";

    private static string TargetLabels(Alerts.NotificationTargetStatus target) => $"target=\"{Escape(target.Name)}\",kind=\"{Escape(target.Kind)}\"";

    /// <summary>Each notification target's delivery figures, by name and kind (never its URL); counters since the outbox was created.</summary>
    public static string RenderNotifications(IReadOnlyList<Alerts.NotificationTargetStatus> targets)
    {
        var text = new StringBuilder();
        if (targets.Count == 0) return "";
        Family(text, "kyros_notifications_sent_total", "Notifications the target answered with a 2xx.", targets, TargetLabels, t => [("", t.Sent)], "counter");
        Family(text, "kyros_notifications_failed_total", "Tries at the target that did not end in a 2xx (each retry counts).", targets, TargetLabels, t => [("", t.Failed)], "counter");
        Family(text, "kyros_notifications_dropped_total", "Notifications dropped, oldest first, because the target's outbox was full.", targets, TargetLabels,
            t => [("", t.Dropped)], "counter");
        Family(text, "kyros_notifications_queued", "Notifications waiting in the target's outbox.", targets, TargetLabels, t => [("", t.Queued)]);
        return text.ToString();
    }

    public static string RenderHosts(Resources.ClusterResourceSummary hosts)
    {
        var text = new StringBuilder();
        foreach (var family in hosts.Nodes.SelectMany(n => n.Metrics.Select(m => (Node: n.Node, Metric: m))).GroupBy(x => x.Metric.Metric))
        {
            var name = "kyros_host_" + family.Key + Resources.ResourceMetrics.Unit(family.Key) switch
            {
                "%" => "_percent",
                "°C" => "_celsius",
                "W" => "_watts",
                "B/s" => "_bytes_per_second",
                _ => "",
            };
            text.Append("# HELP ").Append(name).Append(" Latest sample of the host's ").Append(family.Key).Append(" in the last minute.\n");
            text.Append("# TYPE ").Append(name).Append(" gauge\n");
            foreach (var (node, metric) in family)
            {
                text.Append(name).Append("{node=\"").Append(Escape(node)).Append('"');
                if (metric.Series.IndexOf(':') is var colon and >= 0) text.Append(",subject=\"").Append(Escape(metric.Series[(colon + 1)..])).Append('"');
                text.Append("} ").Append(metric.Latest.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }
        text.Append("# HELP kyros_host_alerts_active Active alerts on the host, by level.\n# TYPE kyros_host_alerts_active gauge\n");
        foreach (var node in hosts.Nodes)
            foreach (var level in node.ActiveAlerts.GroupBy(a => a.Level))
                text.Append("kyros_host_alerts_active{node=\"").Append(Escape(node.Node)).Append("\",level=\"").Append(Resources.AlertLevels.Name(level.Key))
                    .Append("\"} ").Append(level.Count().ToString(CultureInfo.InvariantCulture)).Append('\n');
        return text.ToString();
    }

    public static string Render(ClusterSummary summary)
    {
        var text = new StringBuilder();
        var models = summary.Models;
        Family(text, "kyros_model_requests", "Requests recorded in the window.", models, ModelLabels, s => [("", s.Count)]);
        Family(text, "kyros_model_successes", "Successful requests in the window.", models, ModelLabels, s => [("", s.SuccessCount)]);
        Family(text, "kyros_model_errors", "Failed requests in the window, by error kind.", models, ModelLabels,
            s => s.ErrorsByKind.Select(e => ($"kind=\"{Escape(e.Key)}\"", (double?)e.Value)));
        Family(text, "kyros_model_error_ratio", "Failed requests / requests in the window.", models, ModelLabels, s => [("", s.Count == 0 ? null : s.ErrorRate)]);
        Family(text, "kyros_model_latency_seconds", "Execution time quantiles (within 1%) in the window.", models, ModelLabels,
            s => [("quantile=\"0.5\"", s.Latency.P50), ("quantile=\"0.9\"", s.Latency.P90), ("quantile=\"0.95\"", s.Latency.P95), ("quantile=\"0.99\"", s.Latency.P99)]);
        Family(text, "kyros_model_latency_seconds_max", "Longest execution time in the window.", models, ModelLabels, s => [("", s.Latency.Max)]);
        Family(text, "kyros_model_ttft_seconds", "Time to first token quantiles (within 1%) in the window.", models, ModelLabels,
            s => [("quantile=\"0.5\"", s.Ttft.P50), ("quantile=\"0.95\"", s.Ttft.P95), ("quantile=\"0.99\"", s.Ttft.P99)]);
        Family(text, "kyros_model_tokens", "Tokens in the window.", models, ModelLabels,
            s => [("direction=\"input\"", s.InputTokens), ("direction=\"output\"", s.OutputTokens)]);
        Family(text, "kyros_model_requests_per_second", "Requests per second over the window.", models, ModelLabels, s => [("", s.Throughput.RequestsPerSecond)]);
        Family(text, "kyros_model_cost", "Cost in the window, in the catalog's currency.", models, ModelLabels, s => [("", s.Cost.Total)]);
        Family(text, "kyros_model_quality_mean", "Mean quality score (0-1) in the window.", models, ModelLabels, s => [("", s.Quality.Mean)]);
        Family(text, "kyros_model_quality_scores", "Quality scores behind the mean.", models, ModelLabels, s => [("", s.Quality.Count)]);
        return text.ToString();
    }

    /// <summary>The one writer of a metric family: its HELP and TYPE, then each subject's samples after its own labels (<paramref name="subjectLabels"/>).</summary>
    private static void Family<T>(StringBuilder text, string name, string help, IEnumerable<T> subjects, Func<T, string> subjectLabels,
        Func<T, IEnumerable<(string Labels, double? Value)>> samples, string type = "gauge")
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        foreach (var subject in subjects)
            foreach (var (labels, value) in samples(subject))
            {
                // A figure with nothing behind it is left out rather than written as 0.
                if (value is not { } v) continue;
                text.Append(name).Append('{').Append(subjectLabels(subject));
                if (labels.Length > 0) text.Append(',').Append(labels);
                text.Append("} ").Append(v.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
