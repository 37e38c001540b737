using System.Globalization;
using System.Text;
using Kyros.Perf.Models;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>GET /metrics</c>: every catalog model's figures over a window (<c>?window=</c>, default 5m) in the Prometheus
/// text format. They are gauges over the window (this product keeps windows, not lifetime counters), labelled with it.
/// Every silo answers for the whole cluster, so scrape one silo (or the service in front of them).
/// </summary>
public static class MetricsEndpoint
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(5);

    public static void MapMetricsEndpoint(this IEndpointRouteBuilder app) => app.MapGet("/metrics", async (string? window, IGrainFactory grains) =>
    {
        var span = TimeWindow.ParseOr(window, DefaultWindow);
        var summary = await grains.GetGrain<IPerformanceSummaryGrain>(0).GetClusterSummaryAsync(span);
        return Results.Text(Render(summary), "text/plain; version=0.0.4; charset=utf-8");
    });

    public static string Render(ClusterSummary summary)
    {
        var text = new StringBuilder();
        var models = summary.Models;
        Family(text, "kyros_model_requests", "Requests recorded in the window.", models, s => [("", s.Count)]);
        Family(text, "kyros_model_successes", "Successful requests in the window.", models, s => [("", s.SuccessCount)]);
        Family(text, "kyros_model_errors", "Failed requests in the window, by error kind.", models,
            s => s.ErrorsByKind.Select(e => ($"kind=\"{Escape(e.Key)}\"", (double?)e.Value)));
        Family(text, "kyros_model_error_ratio", "Failed requests / requests in the window.", models, s => [("", s.Count == 0 ? null : s.ErrorRate)]);
        Family(text, "kyros_model_latency_seconds", "Execution time quantiles (within 1%) in the window.", models,
            s => [("quantile=\"0.5\"", s.Latency.P50), ("quantile=\"0.9\"", s.Latency.P90), ("quantile=\"0.95\"", s.Latency.P95), ("quantile=\"0.99\"", s.Latency.P99)]);
        Family(text, "kyros_model_latency_seconds_max", "Longest execution time in the window.", models, s => [("", s.Latency.Max)]);
        Family(text, "kyros_model_ttft_seconds", "Time to first token quantiles (within 1%) in the window.", models,
            s => [("quantile=\"0.5\"", s.Ttft.P50), ("quantile=\"0.95\"", s.Ttft.P95), ("quantile=\"0.99\"", s.Ttft.P99)]);
        Family(text, "kyros_model_tokens", "Tokens in the window.", models,
            s => [("direction=\"input\"", s.InputTokens), ("direction=\"output\"", s.OutputTokens)]);
        Family(text, "kyros_model_requests_per_second", "Requests per second over the window.", models, s => [("", s.Throughput.RequestsPerSecond)]);
        Family(text, "kyros_model_cost", "Cost in the window, in the catalog's currency.", models, s => [("", s.Cost.Total)]);
        Family(text, "kyros_model_quality_mean", "Mean quality score (0-1) in the window.", models, s => [("", s.Quality.Mean)]);
        Family(text, "kyros_model_quality_scores", "Quality scores behind the mean.", models, s => [("", s.Quality.Count)]);
        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string help, IReadOnlyList<ModelSummary> models,
        Func<ModelSummary, IEnumerable<(string Labels, double? Value)>> samples)
    {
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        text.Append("# TYPE ").Append(name).Append(" gauge\n");
        foreach (var model in models)
            foreach (var (labels, value) in samples(model))
            {
                // A figure with nothing behind it is left out rather than written as 0.
                if (value is not { } v) continue;
                text.Append(name).Append("{model=\"").Append(Escape(model.Model)).Append("\",window=\"").Append(model.Window).Append('"');
                if (labels.Length > 0) text.Append(',').Append(labels);
                text.Append("} ").Append(v.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
