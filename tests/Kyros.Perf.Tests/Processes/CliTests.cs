using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kyros.Perf.Tests.Processes;

/// <summary>The kyros-perf CLI as a user runs it, against a real silo through its gateway.</summary>
public sealed class CliTests(SharedHttpSilo silo) : IClassFixture<SharedHttpSilo>
{
    [Fact]
    public async Task Record_then_summary_print_tables_and_bad_input_exits_2_naming_the_field()
    {
        var record = await RunAsync("record", "--model", "gpt-4", "--execution-time", "1.25", "--ttft", "0.2", "--output-tokens", "50", "--request-id", "cli-req-1");
        Assert.Equal(0, record.ExitCode);
        Assert.Contains("cli-req-1", record.Output);

        var summary = await RunAsync("summary", "--model", "gpt-4", "--window", "5m");
        Assert.Equal(0, summary.ExitCode);
        Assert.Contains("gpt-4", summary.Output);
        Assert.Contains("1.25", summary.Output);

        var cluster = await RunAsync("summary", "--window", "5m");
        Assert.Equal(0, cluster.ExitCode);
        Assert.Contains("cluster", cluster.Output);
        Assert.Contains("local-llama", cluster.Output);

        var bad = await RunAsync("record", "--model", "gpt-4", "--execution-time", "-1");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("execution_time", bad.Output);

        var unknown = await RunAsync("summary", "--windw", "5m");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("--windw", unknown.Output);
    }

    [Fact]
    public async Task Models_are_added_updated_shown_listed_and_removed_and_bad_or_stale_edits_exit_2()
    {
        var id = $"cli-{Guid.NewGuid():N}"[..12];
        var add = await RunAsync("models", "add", id, "--provider", "simulated", "--input-price", "0.002", "--context-window", "32000");
        Assert.Equal(0, add.ExitCode);
        Assert.Contains($"added {id} at revision", add.Output);

        var update = await RunAsync("models", "update", id, "--input-price", "0.004");
        Assert.Equal(0, update.ExitCode);
        var show = await RunAsync("models", "show", id);
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("\"input_price_per1k\": 0.004", show.Output);
        Assert.Contains("\"context_window\": 32000", show.Output);
        Assert.Contains(id, (await RunAsync("models", "list")).Output);

        var bad = await RunAsync("models", "update", id, "--quality-prior", "2");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("quality_prior", bad.Output);
        var stale = await RunAsync("models", "update", id, "--input-price", "1", "--if-revision", "1");
        Assert.Equal(2, stale.ExitCode);
        Assert.Contains("not 1", stale.Output);

        var file = Path.Combine(Directory.CreateTempSubdirectory("kyros-cli-").FullName, "model.json");
        await File.WriteAllTextAsync(file, $$"""{ "id": "{{id}}-file", "provider": "simulated", "output_price_per1k": 0.01 }""");
        Assert.Equal(0, (await RunAsync("models", "add", "--file", file)).ExitCode);
        Assert.Equal(2, (await RunAsync("models", "add", "--file", file)).ExitCode);

        foreach (var model in new[] { id, $"{id}-file" }) Assert.Equal(0, (await RunAsync("models", "remove", model)).ExitCode);
        Assert.Equal(2, (await RunAsync("models", "show", id)).ExitCode);
        var changes = await RunAsync("models", "changes", "--limit", "6");
        Assert.Equal(0, changes.ExitCode);
        Assert.Contains("removed", changes.Output);
        Assert.Contains("input_price_per1k 0.002 -> 0.004", changes.Output);
    }

    [Fact]
    public async Task Help_lists_every_command_and_a_commands_options_and_a_missing_value_exits_2_naming_the_option()
    {
        var help = await RunAsync("--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var command in new[] { "status", "record", "summary", "models", "route", "health", "resources", "alerts", "agent", "generate", "feedback" })
            Assert.Matches($@"(?m)^\s+{command}\b", help.Output);

        var route = await RunAsync("route", "--help");
        Assert.Equal(0, route.ExitCode);
        Assert.Contains("--strategy", route.Output);
        Assert.Contains("--models", route.Output);

        var missing = await RunAsync("summary", "--window");
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--window", missing.Output);
    }

    [Fact]
    public async Task The_agent_samples_this_host_and_pushes_under_its_own_name_and_alerts_prints_the_log()
    {
        var agent = await RunAsync("agent", "--node", "cli-agent", "--group", "batch", "--interval", "1", "--count", "2");
        Assert.Equal(0, agent.ExitCode);
        Assert.Contains("cli-agent: cpu", agent.Output);

        var summary = await silo.Value.Http.GetFromJsonAsync<JsonElement>("/v1/resources/nodes/cli-agent?window=5m");
        Assert.Equal(2, summary.GetProperty("sample_count").GetInt32());
        Assert.Equal("batch", summary.GetProperty("group").GetString());
        Assert.False(summary.GetProperty("self_sampled").GetBoolean());

        var resources = await RunAsync("resources", "--node", "cli-agent", "--window", "5m");
        Assert.Equal(0, resources.ExitCode);
        Assert.Contains("cli-agent", resources.Output);
        Assert.Contains("memory", resources.Output);
        Assert.Contains("scaling batch:", resources.Output);

        var alerts = await RunAsync("alerts", "--node", "cli-agent");
        Assert.Equal(0, alerts.ExitCode);

        // The model alert rules: one level changed, the others kept; a level that breaks the rule's order is refused naming it.
        var raised = await RunAsync("alerts", "rules", "error_rate", "--warning", "12.5");
        Assert.Equal(0, raised.ExitCode);
        Assert.Matches(@"error_rate\s*│\s*12\.5\s*│\s*25", raised.Output);
        var rules = await silo.Value.Http.GetFromJsonAsync<JsonElement>("/v1/alerts/model-rules");
        Assert.Equal(12.5, rules.GetProperty("rules").GetProperty("error_rate").GetProperty("warning").GetDouble());
        var inverted = await RunAsync("alerts", "rules", "error_rate", "--warning", "30");
        Assert.Equal(2, inverted.ExitCode);
        Assert.Contains("critical (25) must be above warning (30)", inverted.Output);
        Assert.Equal(0, (await RunAsync("alerts", "rules", "error_rate", "--warning", "10")).ExitCode);
        var bad = await RunAsync("agent", "--node", "bad name");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("node must be 1-128 characters", bad.Output);
    }

    [Fact]
    public async Task Generate_prints_the_text_and_the_decision_and_feedback_scores_it()
    {
        var generate = await RunAsync("generate", "Explain", "quantum", "computing", "--strategy", "cost_effective", "--max-tokens", "5");
        Assert.Equal(0, generate.ExitCode);
        Assert.Contains("[simulated]", generate.Output);
        Assert.Contains("cost_effective", generate.Output);
        var id = System.Text.RegularExpressions.Regex.Match(generate.Output, @"gen\.[A-Za-z0-9_-]+\.[0-9a-f]+\.[0-9a-f]{32}").Value;
        Assert.NotEmpty(id);
        var feedback = await RunAsync("feedback", "--request-id", id, "--score", "0.8");
        Assert.Equal((0, "recorded"), (feedback.ExitCode, feedback.Output.Trim()));
        var again = await RunAsync("feedback", "--request-id", id, "--score", "0.1");
        Assert.Contains("already scored", again.Output);

        var bad = await RunAsync("generate", "x", "--temperature", "3");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("temperature", bad.Output);

        var health = await RunAsync("health");
        Assert.Equal(0, health.ExitCode);
        Assert.All(Kyros.Perf.Catalog.DefaultCatalog.Create(), m => Assert.Matches($@"{m.Id}\s+.\s+Healthy", health.Output));
        Assert.Contains("router of silo", health.Output);
    }

    [Fact]
    public async Task Tune_runs_a_cycle_shows_the_status_and_refuses_an_unknown_recommendation()
    {
        var run = await RunAsync("tune", "run");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("cycle read", run.Output);
        var status = await RunAsync("tune", "status");
        Assert.Equal(0, status.ExitCode);
        Assert.Contains("gates: confidence >= 0.7", status.Output);
        var unknown = await RunAsync("tune", "apply", "tun-999999");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("tun-999999", unknown.Output);
        var history = await RunAsync("tune", "history", "--since", "2h");
        Assert.Equal(0, history.ExitCode);
    }

    [Fact]
    public async Task Bench_runs_two_simulated_models_prints_the_results_and_writes_the_csv_report_and_a_bad_level_exits_2_naming_the_option()
    {
        // Both are default catalog models on the simulated provider; a short output budget keeps the run to seconds.
        var csv = Path.Combine(Directory.CreateTempSubdirectory("kyros-bench-").FullName, "report.csv");
        var bench = await RunAsync("bench", "--models", "gpt-3.5-turbo,gemini-pro", "--prompt", "hello", "--iterations", "6", "--concurrency", "1,2",
            "--max-tokens", "16", "--out", csv);
        Assert.True(bench.ExitCode == 0, bench.Output);
        Assert.Matches(@"gpt-3\.5-turbo\s+.\s+concurrency\s+.\s+1\s", bench.Output);
        Assert.Matches(@"gemini-pro\s+.\s+concurrency\s+.\s+2\s", bench.Output);
        Assert.Contains("completed", bench.Output);
        var lines = File.ReadAllLines(csv);
        Assert.StartsWith("model,mode,concurrency", lines[0]);
        string[] cells = ["gpt-3.5-turbo,concurrency,1", "gpt-3.5-turbo,concurrency,2", "gemini-pro,concurrency,1", "gemini-pro,concurrency,2"];
        Assert.Equal(cells.Order(StringComparer.Ordinal), lines.Skip(1).Select(l => string.Join(',', l.Split(',').Take(3))).Order(StringComparer.Ordinal));

        // Checked before connecting: the silo is not needed to refuse it.
        var bad = await RunAsync("bench", "--models", "gpt-3.5-turbo", "--prompt", "hello", "--concurrency", "0");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--concurrency", bad.Output);
    }

    [Fact]
    public async Task Alerts_follow_prints_an_alert_as_it_is_raised()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { CliProcess.Path, "alerts", "--follow", "--node", "cli-follow",
                     "--gateway", $"127.0.0.1:{silo.Value.GatewayPort}" })
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line && !line.Contains("following alerts")) { }
            var now = DateTimeOffset.UtcNow;
            var body = $$"""[{"node": "cli-follow", "timestamp": "{{now.AddSeconds(-2):O}}", "cpu_percent": 96}, {"node": "cli-follow", "timestamp": "{{now.AddSeconds(-1):O}}", "cpu_percent": 97}]""";
            (await silo.Value.Http.PostAsync("/v1/resources/nodes/cli-follow/samples", new StringContent(body, System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
            string? printed;
            do printed = await process.StandardOutput.ReadLineAsync(timeout.Token);
            while (printed is not null && !printed.Contains("cli-follow"));
            Assert.NotNull(printed);
            Assert.Contains("raised emergency cli-follow cpu", printed);
        }
        finally
        {
            // Ctrl+C, as a user stops it: the subscription is closed before the process ends.
            using (var interrupt = Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await interrupt.WaitForExitAsync();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        Assert.Equal(0, process.ExitCode);
    }

    [Fact]
    public async Task Keys_are_created_listed_shown_and_revoked_and_bad_input_exits_2_naming_the_field()
    {
        var name = $"cli-{Guid.NewGuid():N}"[..12];
        var create = await RunAsync("keys", "create", name, "--scopes", "read,write", "--models", "gpt-4", "--budget-usd", "5", "--budget-period", "day", "--rpm", "30");
        Assert.Equal(0, create.ExitCode);
        var id = System.Text.RegularExpressions.Regex.Match(create.Output, @"created key (key_[0-9a-f]+)").Groups[1].Value;
        var secret = System.Text.RegularExpressions.Regex.Match(create.Output, @"(kp-[A-Za-z0-9_-]{43})").Groups[1].Value;
        Assert.NotEmpty(id);
        Assert.NotEmpty(secret);
        // The silo knows the key by its secret's hash.
        var ring = silo.Value.Services.GetRequiredService<Kyros.Perf.Keys.ApiKeyRing>();
        var held = await Eventually.UntilAsync(() => Task.FromResult(ring.Find(Kyros.Perf.Keys.ApiKeySecrets.Hash(secret))), k => k is not null, TimeSpan.FromSeconds(2));
        Assert.Equal(name, held!.Settings.Name);

        var list = await RunAsync("keys", "list");
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(id, list.Output);
        Assert.DoesNotContain(secret, list.Output);
        var show = await RunAsync("keys", "show", id);
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("gpt-4", show.Output);
        Assert.Contains("day", show.Output);
        Assert.DoesNotContain(secret, show.Output);
        // Its use this period is printed with it: nothing spent of the day's budget yet.
        Assert.Matches(@"spend_usd\s.*\$0 of \$5\.00", show.Output);
        Assert.Matches(@"requests\s.*0 \(0 in the last minute\)", show.Output);
        Assert.Matches($@"{id}\s.*\$5\.00/day\s.*\$0\s", list.Output);

        // Updated: the budget and rpm given change, the rest stays.
        var update = await RunAsync("keys", "update", id, "--budget-usd", "7.5", "--rpm", "45");
        Assert.Equal(0, update.ExitCode);
        Assert.Contains($"updated key {id} ({name})", update.Output);
        show = await RunAsync("keys", "show", id);
        Assert.Equal(0, show.ExitCode);
        Assert.Matches(@"budget_usd\s.*7\.5\s", show.Output);
        Assert.Matches(@"budget_period\s.*day\s", show.Output);
        Assert.Matches(@"rpm\s.*45\s", show.Output);
        Assert.Matches(@"models\s.*gpt-4\s", show.Output);
        Assert.Matches(@"spend_usd\s.*\$0 of \$7\.50", show.Output);
        // Cleared: no budget takes its period with it.
        Assert.Equal(0, (await RunAsync("keys", "update", id, "--no-budget", "--all-models")).ExitCode);
        show = await RunAsync("keys", "show", id);
        Assert.Matches(@"budget_period\s.*-\s", show.Output);
        Assert.Matches(@"models\s.*all\s", show.Output);
        Assert.Matches(@"rpm\s.*45\s", show.Output);
        foreach (var (args, field) in new[]
                 {
                     (new[] { "keys", "update", id, "--rpm", "5", "--no-rpm" }, "rpm"),
                     (new[] { "keys", "update", id, "--tpm", "0" }, "tpm"),
                     (new[] { "keys", "update", id, "--budget-period", "week" }, "budget_period"),
                     (new[] { "keys", "update", id }, "setting"),
                     (new[] { "keys", "update", "key_0000000000000000", "--rpm", "5" }, "key_0000000000000000"),
                 })
        {
            var bad = await RunAsync(args);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(field, bad.Output);
        }

        foreach (var (args, field) in new[]
                 {
                     (new[] { "keys", "create", name + "-b", "--scopes", "root" }, "scopes"),
                     (new[] { "keys", "create", name + "-b", "--scopes", "read", "--budget-usd", "-3" }, "budget_usd"),
                     (new[] { "keys", "create", name + "-b", "--scopes", "read", "--models", "no-such-model" }, "models"),
                     (new[] { "keys", "create", name + "-b", "--scopes", "read", "--expires-at", "2001-01-01T00:00:00Z" }, "expires_at"),
                 })
        {
            var bad = await RunAsync(args);
            Assert.Equal(2, bad.ExitCode);
            Assert.Contains(field, bad.Output);
        }
        var taken = await RunAsync("keys", "create", name, "--scopes", "read");
        Assert.Equal(2, taken.ExitCode);

        var revoke = await RunAsync("keys", "revoke", id);
        Assert.Equal(0, revoke.ExitCode);
        Assert.Contains($"revoked key {id}", revoke.Output);
        await Eventually.UntilAsync(() => Task.FromResult(ring.Find(Kyros.Perf.Keys.ApiKeySecrets.Hash(secret))), k => k is null, TimeSpan.FromSeconds(2));
        Assert.Equal(2, (await RunAsync("keys", "show", id)).ExitCode);
        Assert.Equal(2, (await RunAsync("keys", "revoke", id)).ExitCode);
    }

    private Task<(int ExitCode, string Output)> RunAsync(params string[] args) => CliProcess.RunAsync(silo.Value.GatewayPort, args);
}
