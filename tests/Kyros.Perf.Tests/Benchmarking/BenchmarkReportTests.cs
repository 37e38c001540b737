using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Tests.Benchmarking;

/// <summary>A run's report in each format, from a run built of seeded samples: no cluster.</summary>
public sealed partial class BenchmarkReportTests
{
    private static readonly DateTimeOffset Created = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly int[] Levels = [1, 4];

    /// <summary>20 requests per model and level; "beta" barely gains throughput from 1 to 4 callers, so it has a knee at 1.</summary>
    private static (BenchmarkRun Run, List<BenchmarkSample> Samples) Run(string[]? metrics = null, string[]? models = null)
    {
        models ??= ["alpha", "beta"];
        var config = new BenchmarkConfig
        {
            ModelTypes = models, TestPrompts = [new BenchmarkPrompt("hi", "hello")], IterationsPerModel = 20, ConcurrencyLevels = Levels,
            MetricsToCollect = metrics ?? [.. BenchmarkMetrics.All], Slo = new BenchmarkSlo(LatencySeconds: 1.5),
        };
        var random = new Random(42);
        var samples = new List<BenchmarkSample>();
        var results = new List<BenchmarkResult>();
        foreach (var level in Levels)
        foreach (var (model, m) in models.Select((model, m) => (model, m)))
        {
            var cell = Enumerable.Range(0, 20).Select(i =>
            {
                var latency = 0.5 + m * 0.2 + random.NextDouble();
                return new BenchmarkSample(model, "concurrency", level, 0, i, 0, latency, latency / 4, 12, 40, i != 7, i == 7 ? "timeout" : null, 0.0005,
                    i == 7 ? null : 1);
            }).ToList();
            samples.AddRange(cell);
            var wall = model == "beta" && level == 4 ? 9.5 : 10.0 / level; // beta: 2 → 2.1 requests/s
            results.Add(BenchmarkStatistics.Summarize(model, "concurrency", level, null, cell, wall, config.Slo));
        }
        var run = new BenchmarkRun
        {
            Id = "bench-report-1", Status = BenchmarkStatus.Completed, Config = config, ConfigKey = "cfg-1", CreatedAt = Created,
            StartedAt = Created.AddSeconds(1), FinishedAt = Created.AddSeconds(40), Progress = new BenchmarkProgress(80, 80, "done"), Results = [.. results],
        };
        return (run, samples);
    }

    private static BenchmarkTrendReport Trends(List<BenchmarkSample> samples)
    {
        var baseline = samples.Select(s => s with { Latency = s.Latency / 1.5, Ttft = s.Ttft / 1.5 }).ToList();
        return new BenchmarkTrendReport
        {
            ConfigKey = "cfg-1", Run = "bench-report-1", BaselineRuns = ["bench-report-0"], RegressionThreshold = BenchmarkComparison.RegressionThreshold,
            Changes = BenchmarkComparison.Compare(samples, baseline, seed: 1),
            Points = [.. BenchmarkComparison.Points("bench-report-0", Created.AddDays(-1), baseline), .. BenchmarkComparison.Points("bench-report-1", Created, samples)],
        };
    }

    private static List<string[]> CsvRows(string csv) =>
        [.. csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Select(line => CsvField().Matches(line).Select(m => m.Groups[1].Success
            ? m.Groups[1].Value.Replace("\"\"", "\"") : m.Groups[2].Value).ToArray())];

    [GeneratedRegex("(?:^|,)(?:\"((?:[^\"]|\"\")*)\"|([^,]*))")]
    private static partial Regex CsvField();

    [Fact]
    public void Csv_has_a_header_and_one_row_per_model_and_level_whose_numbers_parse_back()
    {
        var (run, samples) = Run();

        var document = BenchmarkReport.Render(run, samples, null, BenchmarkReportFormats.Csv);

        Assert.Equal(("csv", "text/csv"), (document.Format, document.ContentType));
        var rows = CsvRows(document.Content);
        Assert.Equal(
        [
            "model", "mode", "concurrency", "target_rps", "requests", "successes", "error_rate",
            "latency_mean", "latency_p50", "latency_p90", "latency_p95", "latency_p99", "latency_max", "ttft_p50", "ttft_p95", "ttft_p99",
            "itl_p50", "output_tokens_per_second", "total_output_tokens_per_second", "requests_per_second", "goodput", "late_sends",
            "cost_total", "cost_per_request", "quality", "quality_scored",
        ], rows[0]);
        Assert.Equal(4, rows.Count - 1);
        Assert.Equal(["alpha/1", "alpha/4", "beta/1", "beta/4"], rows.Skip(1).Select(r => $"{r[0]}/{r[2]}"));
        var header = rows[0].ToList();
        foreach (var row in rows.Skip(1))
        {
            var result = run.Results.Single(r => r.Model == row[0] && r.Concurrency == int.Parse(row[2], CultureInfo.InvariantCulture));
            double Field(string name) => double.Parse(row[header.IndexOf(name)], CultureInfo.InvariantCulture);
            Assert.Equal("", row[header.IndexOf("target_rps")]);
            Assert.Equal(20, Field("requests"));
            Assert.Equal(19, Field("successes"));
            Assert.Equal(result.ErrorRate, Field("error_rate"));
            Assert.Equal(result.Latency.P95, Field("latency_p95"));
            Assert.Equal(result.Ttft.P99, Field("ttft_p99"));
            Assert.Equal(result.RequestsPerSecond, Field("requests_per_second"));
            Assert.Equal(result.Goodput, Field("goodput"));
            Assert.Equal(result.CostPerRequest, Field("cost_per_request"));
            Assert.Equal(1, Field("quality"));
        }
    }

    [Fact]
    public void Csv_quotes_text_with_commas_or_quotes()
    {
        var (run, samples) = Run(models: ["a,b", "say \"hi\""]);

        var rows = CsvRows(BenchmarkReport.Render(run, samples, null, BenchmarkReportFormats.Csv).Content);

        Assert.Equal(["a,b", "a,b", "say \"hi\"", "say \"hi\""], rows.Skip(1).Select(r => r[0]));
        Assert.All(rows, r => Assert.Equal(rows[0].Length, r.Length));
    }

    [Fact]
    public void Json_carries_the_run_in_snake_case_with_knees_and_trends()
    {
        var (run, samples) = Run();

        var document = BenchmarkReport.Render(run, samples, Trends(samples), BenchmarkReportFormats.Json);

        Assert.Equal("application/json", document.ContentType);
        using var json = JsonDocument.Parse(document.Content);
        var root = json.RootElement;
        Assert.Equal("bench-report-1", root.GetProperty("run").GetProperty("id").GetString());
        Assert.Equal("completed", root.GetProperty("run").GetProperty("status").GetString());
        var first = root.GetProperty("run").GetProperty("results")[0];
        Assert.Equal(run.Results[0].Latency.P95, first.GetProperty("latency").GetProperty("p95").GetDouble());
        Assert.Equal(1, first.GetProperty("errors").GetProperty("timeout").GetInt32());
        var knee = Assert.Single(root.GetProperty("knees").EnumerateArray());
        Assert.Equal("beta", knee.GetProperty("model").GetString());
        Assert.Equal(1, knee.GetProperty("concurrency").GetInt32());
        Assert.Contains("requests per second", knee.GetProperty("reason").GetString());
        var changes = root.GetProperty("trends").GetProperty("changes");
        Assert.Contains(changes.EnumerateArray(), c => c.GetProperty("metric").GetString() == "latency_p50" && c.GetProperty("regression").GetBoolean());

        var noTrends = JsonDocument.Parse(BenchmarkReport.Render(run, samples, null, BenchmarkReportFormats.Json).Content);
        Assert.Equal(JsonValueKind.Null, noTrends.RootElement.GetProperty("trends").ValueKind);
    }

    [Fact]
    public void Markdown_has_a_row_per_result_the_knee_the_comparison_and_a_chart_each()
    {
        var (run, samples) = Run();

        var document = BenchmarkReport.Render(run, samples, Trends(samples), BenchmarkReportFormats.Markdown);

        Assert.Equal("text/markdown", document.ContentType);
        var md = document.Content;
        var lines = md.Split('\n');
        Assert.StartsWith("# Benchmark bench-report-1", md);
        Assert.Contains("- Status: completed", lines);
        var results = lines.SkipWhile(l => l != "## Results").TakeWhile(l => l != "## Knee").ToList();
        Assert.Equal(4, results.Count(l => Regex.IsMatch(l, @"^\| (alpha|beta) \| concurrency \| (1|4) \| ")));
        Assert.Contains(results, l => l.StartsWith("| model | mode | concurrency | target_rps | requests | successes | error_rate | latency_mean |", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("- beta: concurrency 1 ", StringComparison.Ordinal));
        Assert.Contains("## Compared with earlier runs", md);
        Assert.Contains(lines, l => l.StartsWith("| **alpha** | **concurrency** | **1** | **latency_p50** |", StringComparison.Ordinal));
        // The latency distribution, latency and throughput against concurrency, and latency over the two runs.
        Assert.Equal(4, Regex.Count(md, "<svg "));
        Assert.Equal(4, Regex.Count(md, "</svg>"));
        foreach (Match chart in Regex.Matches(md, "<svg .*?</svg>", RegexOptions.Singleline))
        {
            Assert.DoesNotContain("\n\n", chart.Value); // one HTML block each
            Assert.DoesNotContain("<script", chart.Value);
        }
    }

    [Fact]
    public void A_metric_left_out_of_metrics_to_collect_leaves_its_columns_out()
    {
        var (run, samples) = Run(metrics: [BenchmarkMetrics.Latency, BenchmarkMetrics.Cost]);

        var header = CsvRows(BenchmarkReport.Render(run, samples, null, BenchmarkReportFormats.Csv).Content)[0];
        var md = BenchmarkReport.Render(run, samples, null, BenchmarkReportFormats.Markdown).Content;

        Assert.Contains("latency_p95", header);
        Assert.Contains("cost_total", header);
        foreach (var column in new[] { "ttft_p50", "itl_p50", "output_tokens_per_second", "requests_per_second", "goodput", "quality" })
        {
            Assert.DoesNotContain(column, header);
            Assert.DoesNotContain(column, md);
        }
        Assert.Contains("latency_p95", md);
        // Without throughput, no throughput chart; the latency charts stay, and no trend chart without trends.
        Assert.Equal(2, Regex.Count(md, "<svg "));
    }
}
