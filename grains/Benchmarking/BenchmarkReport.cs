using System.Globalization;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Common;

namespace Kyros.Perf.Benchmarking;

/// <summary>
/// A run's report as JSON (everything, for machines), CSV (one row per result, for spreadsheets) or Markdown (for
/// people: tables, knees, the comparison with earlier runs, and inline SVG charts). CSV and Markdown show the columns of
/// the metrics the run's config names; JSON always carries every figure.
/// </summary>
public static class BenchmarkReport
{
    private static readonly JsonSerializerOptions Indented = new(KyrosJson.Options) { WriteIndented = true };

    /// <summary>A result's column: its name, and the figure as a number (null for none).</summary>
    private sealed record Column(string Name, Func<BenchmarkResult, double?> Value);

    /// <summary>The figure columns of each metric, in this order whatever the order of the config's list.</summary>
    private static readonly (string Metric, Column[] Columns)[] MetricColumns =
    [
        (BenchmarkMetrics.Latency,
        [
            new("latency_mean", r => r.Latency.Mean), new("latency_p50", r => r.Latency.P50), new("latency_p90", r => r.Latency.P90),
            new("latency_p95", r => r.Latency.P95), new("latency_p99", r => r.Latency.P99), new("latency_max", r => r.Latency.Max),
        ]),
        (BenchmarkMetrics.Ttft, [new("ttft_p50", r => r.Ttft.P50), new("ttft_p95", r => r.Ttft.P95), new("ttft_p99", r => r.Ttft.P99)]),
        (BenchmarkMetrics.TokensPerSecond,
        [
            new("itl_p50", r => r.InterTokenLatency.P50), new("output_tokens_per_second", r => r.OutputTokensPerSecond),
            new("total_output_tokens_per_second", r => r.TotalOutputTokensPerSecond),
        ]),
        (BenchmarkMetrics.Throughput, [new("requests_per_second", r => r.RequestsPerSecond), new("goodput", r => r.Goodput), new("late_sends", r => r.LateSends)]),
        (BenchmarkMetrics.Cost, [new("cost_total", r => r.CostTotal), new("cost_per_request", r => r.CostPerRequest)]),
        (BenchmarkMetrics.Quality, [new("quality", r => r.Quality), new("quality_scored", r => r.QualityScored)]),
    ];

    /// <summary>Columns every row has before the figures: the cell, then its counts.</summary>
    private static readonly string[] CellColumns = ["model", "mode", "concurrency"];

    private static readonly Column[] CountColumns =
        [new("target_rps", r => r.TargetRps), new("requests", r => r.Requests), new("successes", r => r.Successes), new("error_rate", r => r.ErrorRate)];

    /// <param name="format">Already validated: <see cref="BenchmarkReportFormats"/>.</param>
    public static BenchmarkReportDocument Render(BenchmarkRun run, IReadOnlyList<BenchmarkSample> samples, BenchmarkTrendReport? trends, string format)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(samples);
        return format switch
        {
            BenchmarkReportFormats.Json => new(format, "application/json", Json(run, trends)),
            BenchmarkReportFormats.Csv => new(format, "text/csv", Csv(run)),
            BenchmarkReportFormats.Markdown => new(format, "text/markdown", Markdown(run, samples, trends)),
            _ => throw new ArgumentException($"format must be one of {string.Join(", ", BenchmarkReportFormats.All)}.", nameof(format)),
        };
    }

    private sealed record KneeRow(string Model, int Concurrency, string Reason);

    private sealed record JsonReport(BenchmarkRun Run, KneeRow[] Knees, BenchmarkTrendReport? Trends);

    private static string Json(BenchmarkRun run, BenchmarkTrendReport? trends) =>
        JsonSerializer.Serialize(new JsonReport(run, [.. Knees(run).Select(k => new KneeRow(k.Model, k.Knee.Concurrency, k.Knee.Reason))], trends), Indented);

    /// <summary>The knee of each model's closed-loop levels, in the config's order of models.</summary>
    private static IEnumerable<(string Model, BenchmarkKnee Knee)> Knees(BenchmarkRun run) =>
        from model in Models(run)
        let knee = BenchmarkStatistics.Knee([.. run.Results.Where(r => r.Model == model && r.Mode == BenchmarkRunner.ClosedLoop)])
        where knee is not null
        select (model, knee);

    /// <summary>The config's models first, in its order, then any other model a result names.</summary>
    private static List<string> Models(BenchmarkRun run) => [.. run.Config.ModelTypes.Concat(run.Results.Select(r => r.Model)).Distinct()];

    /// <summary>Rows in the config's order of models, the closed loop by level, then the load test.</summary>
    private static List<BenchmarkResult> Ordered(BenchmarkRun run)
    {
        var models = Models(run);
        return [.. run.Results.OrderBy(r => models.IndexOf(r.Model)).ThenBy(r => r.Mode == BenchmarkRunner.ClosedLoop ? 0 : 1).ThenBy(r => r.Mode, StringComparer.Ordinal)
            .ThenBy(r => r.Concurrency)];
    }

    private static Column[] FigureColumns(BenchmarkConfig config) =>
        [.. CountColumns, .. MetricColumns.Where(m => config.MetricsToCollect.Contains(m.Metric)).SelectMany(m => m.Columns)];

    private static string Csv(BenchmarkRun run)
    {
        var columns = FigureColumns(run.Config);
        var csv = new StringBuilder();
        csv.AppendJoin(',', CellColumns.Concat(columns.Select(c => c.Name))).Append("\r\n");
        foreach (var r in Ordered(run))
        {
            csv.Append(CsvText(r.Model)).Append(',').Append(CsvText(r.Mode)).Append(',').Append(r.Concurrency.ToString(CultureInfo.InvariantCulture));
            foreach (var c in columns) csv.Append(',').Append(c.Value(r) is { } v ? v.ToString("R", CultureInfo.InvariantCulture) : "");
            csv.Append("\r\n");
        }
        return csv.ToString();
    }

    /// <summary>RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled.</summary>
    private static string CsvText(string text) =>
        text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + text.Replace("\"", "\"\"") + "\"" : text;

    private static string Markdown(BenchmarkRun run, IReadOnlyList<BenchmarkSample> samples, BenchmarkTrendReport? trends)
    {
        var md = new StringBuilder();
        md.Append("# Benchmark ").Append(MdText(run.Id)).Append("\n\n");
        md.Append("- Status: ").Append(BenchmarkStatuses.Name(run.Status)).Append('\n');
        md.Append("- Configuration: `").Append(run.ConfigKey.Replace("`", "'")).Append("`\n");
        md.Append("- Models: ").Append(MdText(string.Join(", ", run.Config.ModelTypes))).Append('\n');
        md.Append("- Created: ").Append(Time(run.CreatedAt)).Append('\n');
        if (run.StartedAt is { } started) md.Append("- Started: ").Append(Time(started)).Append('\n');
        if (run.FinishedAt is { } finished)
        {
            md.Append("- Finished: ").Append(Time(finished));
            if (run.StartedAt is { } s) md.Append(Inv($" ({(finished - s).TotalSeconds:0.#} s)"));
            md.Append('\n');
        }
        md.Append(Inv($"- Progress: {run.Progress.Completed} of {run.Progress.Total} requests ({run.Progress.Fraction:0%})")).Append('\n');
        if (run.Error is { } error) md.Append("- Error: ").Append(MdText(error)).Append('\n');
        md.Append('\n');

        var metrics = run.Config.MetricsToCollect;
        var columns = FigureColumns(run.Config);
        md.Append("## Results\n\n");
        var results = Ordered(run);
        if (results.Count == 0) md.Append("No cell has finished yet.\n\n");
        else
        {
            md.Append("| ").AppendJoin(" | ", CellColumns.Concat(columns.Select(c => c.Name))).Append(" |\n");
            md.Append('|').Append(string.Concat(Enumerable.Repeat(" --- |", CellColumns.Length))).Append(string.Concat(Enumerable.Repeat(" ---: |", columns.Length))).Append('\n');
            foreach (var r in results)
                md.Append("| ").Append(MdText(r.Model)).Append(" | ").Append(MdText(r.Mode)).Append(" | ").Append(r.Concurrency.ToString(CultureInfo.InvariantCulture))
                    .Append(string.Concat(columns.Select(c => " | " + (c.Value(r) is { } v ? Figure(v) : "")))).Append(" |\n");
            md.Append('\n');
            var errors = results.Where(r => r.Errors.Count > 0).ToList();
            foreach (var r in errors)
                md.Append(Inv($"- {MdText(r.Model)} ({r.Mode} {r.Concurrency}) errors: "))
                    .AppendJoin(", ", r.Errors.OrderByDescending(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal).Select(e => Inv($"{MdText(e.Key)} {e.Value}"))).Append('\n');
            if (errors.Count > 0) md.Append('\n');
        }

        var knees = Knees(run).ToList();
        if (knees.Count > 0)
        {
            md.Append("## Knee\n\nWhere added concurrency stops paying: the level after which throughput rises by under a quarter of the rise in callers, or the median latency by over half.\n\n");
            foreach (var (model, knee) in knees)
                md.Append("- ").Append(MdText(model)).Append(Inv($": concurrency {knee.Concurrency} ({MdText(knee.Reason)})")).Append('\n');
            md.Append('\n');
        }

        if (trends is { Changes.Length: > 0 }) Comparison(md, trends);

        Charts(md, run, samples, trends, metrics);
        return md.ToString();
    }

    private static void Comparison(StringBuilder md, BenchmarkTrendReport trends)
    {
        md.Append("## Compared with earlier runs\n\n");
        md.Append(Inv($"Against {trends.BaselineRuns.Length} earlier run(s) pooled"));
        if (trends.BaselineRuns.Length > 0) md.Append(" (").Append(MdText(string.Join(", ", trends.BaselineRuns))).Append(')');
        md.Append(Inv($"; change with its 95 % bootstrap interval; a regression (in bold) is significant and worse by at least {trends.RegressionThreshold:0.#%}."))
            .Append(" An error rate from 0 is compared in percentage points.\n\n");
        md.Append("| model | mode | concurrency | metric | baseline | current | change | 95 % interval | significant |\n");
        md.Append("| --- | --- | --- | --- | ---: | ---: | ---: | --- | --- |\n");
        foreach (var t in trends.Changes)
        {
            var absolute = t.Metric == BenchmarkComparison.ErrorRate && t.Baseline == 0;
            string[] cells =
            [
                MdText(t.Model), MdText(t.Mode), t.Concurrency.ToString(CultureInfo.InvariantCulture), MdText(t.Metric), Figure(t.Baseline), Figure(t.Current),
                Change(t.Change, absolute), $"{Change(t.ChangeLow, absolute)} … {Change(t.ChangeHigh, absolute)}",
                t.Regression ? "regression" : t.Significant ? "yes" : "no",
            ];
            md.Append("| ").AppendJoin(" | ", t.Regression ? cells.Select(c => $"**{c}**") : cells).Append(" |\n");
        }
        md.Append('\n');
    }

    private static void Charts(StringBuilder md, BenchmarkRun run, IReadOnlyList<BenchmarkSample> samples, BenchmarkTrendReport? trends, string[] metrics)
    {
        var models = Models(run);
        var closed = Ordered(run).Where(r => r.Mode == BenchmarkRunner.ClosedLoop).ToList();
        var charts = new List<(string Heading, string Svg)>();
        if (metrics.Contains(BenchmarkMetrics.Latency))
        {
            // Each model at its highest closed-loop level: the tail under the most load the closed loop applied.
            var cdf = new List<(string Name, IReadOnlyList<double> Values)>();
            foreach (var model in models.Concat(samples.Select(s => s.Model)).Distinct())
            {
                var own = samples.Where(s => s.Model == model && s.Mode == BenchmarkRunner.ClosedLoop).ToList();
                if (own.Count == 0) continue;
                var top = own.Max(s => s.Concurrency);
                cdf.Add((Inv($"{model} @{top}"), [.. own.Where(s => s.Concurrency == top && s.Success).Select(s => s.Latency)]));
            }
            if (cdf.Count > 0) charts.Add(("Latency distribution", SvgCharts.Cdf("Latency at the highest concurrency", "latency (s)", cdf)));
            if (closed.Count > 0)
                charts.Add(("Latency against concurrency", SvgCharts.Lines("Median latency against concurrency", "concurrency", "p50 latency (s)",
                    Series(models, closed, r => r.Latency.Count > 0 ? r.Latency.P50 : null))));
        }
        if (metrics.Contains(BenchmarkMetrics.Throughput) && closed.Count > 0)
            charts.Add(("Throughput against concurrency", SvgCharts.Lines("Throughput against concurrency", "concurrency", "requests/s",
                Series(models, closed, r => r.RequestsPerSecond))));
        if (metrics.Contains(BenchmarkMetrics.Latency) && trends is not null)
        {
            var points = trends.Points.Where(p => p.Metric == BenchmarkComparison.LatencyP50).ToList();
            // Runs in time order; X is a run's index in it.
            var runs = points.GroupBy(p => p.Run).OrderBy(g => g.Min(p => p.At)).Select(g => g.Key).ToList();
            if (runs.Count >= 2)
            {
                var series = points.GroupBy(p => (p.Model, p.Mode, p.Concurrency))
                    .OrderBy(g => models.IndexOf(g.Key.Model) is var i and >= 0 ? i : int.MaxValue).ThenBy(g => g.Key.Model, StringComparer.Ordinal)
                    .ThenBy(g => g.Key.Mode, StringComparer.Ordinal).ThenBy(g => g.Key.Concurrency)
                    .Select(g => (Inv($"{g.Key.Model} {(g.Key.Mode == BenchmarkRunner.ClosedLoop ? "@" : g.Key.Mode + " ")}{g.Key.Concurrency}"),
                        (IReadOnlyList<(double X, double Y)>)[.. g.Select(p => ((double)runs.IndexOf(p.Run), p.Value))]))
                    .ToList();
                charts.Add(("Median latency over runs", SvgCharts.Lines("Median latency over runs (oldest first)", "run", "p50 latency (s)", series)));
            }
        }
        if (charts.Count == 0) return;
        md.Append("## Charts\n\n");
        // HTML blocks: a Markdown viewer that allows inline HTML draws them; the SVG has no blank line to end the block early.
        foreach (var (heading, svg) in charts) md.Append("### ").Append(heading).Append("\n\n<div>\n").Append(svg).Append("\n</div>\n\n");
    }

    private static List<(string Name, IReadOnlyList<(double X, double Y)> Points)> Series(List<string> models, List<BenchmarkResult> closed,
        Func<BenchmarkResult, double?> value) =>
    [
        .. from model in models
        let points = closed.Where(r => r.Model == model && value(r) is not null).Select(r => ((double)r.Concurrency, value(r)!.Value)).ToList()
        where points.Count > 0
        select (model, (IReadOnlyList<(double X, double Y)>)points),
    ];

    /// <summary>A figure for people: four significant digits (never in exponent form), whole numbers from a thousand on.</summary>
    private static string Figure(double value) =>
        !double.IsFinite(value) ? value > 0 ? "∞" : value < 0 ? "−∞" : "" :
        Math.Abs(value) >= 1000 ? value.ToString("0", CultureInfo.InvariantCulture) :
        value == Math.Floor(value) ? value.ToString("0", CultureInfo.InvariantCulture) :
        double.Parse(value.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture).ToString("0.###############", CultureInfo.InvariantCulture);

    /// <summary>A relative change in percent, or an absolute one (an error rate from 0) in percentage points; huge bounds as ∞.</summary>
    private static string Change(double change, bool absolute) =>
        Math.Abs(change) >= 1e12 ? change > 0 ? "+∞" : "−∞"
        : absolute ? Inv($"{change * 100:+0.0;-0.0;0.0} pp")
        : Inv($"{change:+0.0%;-0.0%;0.0%}");

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>Text in a Markdown table or line: pipes escaped, line breaks flattened, HTML not let through.</summary>
    private static string MdText(string text) =>
        text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r", " ").Replace("\n", " ");

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
