using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace Kyros.Perf.Tests.Pages;

/// <summary>
/// The product's pages in a real browser (Debian's Chromium through Playwright) against a silo with data: each page
/// shows the figures the API gives for the same window, works at a desktop's and a phone's width, and logs no error.
/// </summary>
public sealed class PagesBrowserTests(PagesFixture fixture) : IClassFixture<PagesFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static void NoErrors(List<string> errors)
    {
        lock (errors) Assert.True(errors.Count == 0, "The page logged errors:\n" + string.Join("\n", errors));
    }

    [Fact]
    public async Task The_overview_shows_every_models_figures_as_the_api_gives_them_and_sorts_by_a_column()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.Locator("#models tbody tr[data-key]").First.WaitForAsync();
        var summary = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/performance/summary?window=1h");

        foreach (var model in summary.GetProperty("models").EnumerateArray())
        {
            var row = page.Locator($"#models tbody tr[data-key='{model.GetProperty("model").GetString()}']");
            var cells = await row.Locator("td").AllInnerTextsAsync();
            var count = model.GetProperty("count").GetInt64();
            Assert.Equal(PagesFixture.Shown.Count(count), cells[1]);
            // A model without records in the window shows a dash, not a zero.
            var p95 = model.GetProperty("latency").GetProperty("p95");
            Assert.Equal(p95.ValueKind == JsonValueKind.Number ? PagesFixture.Shown.Seconds(p95.GetDouble()) : "–", cells[3]);
            Assert.Equal(count > 0 ? PagesFixture.Shown.Percent(model.GetProperty("error_rate").GetDouble()) : "–", cells[8]);
            // The last hour's sparkline is drawn.
            Assert.Equal(1, await row.Locator("svg.spark path").CountAsync());
        }
        var cluster = summary.GetProperty("cluster");
        var cards = page.Locator("#cluster");
        await Assertions.Expect(cards).ToContainTextAsync(PagesFixture.Shown.Count(cluster.GetProperty("count").GetInt64()));
        await Assertions.Expect(cards).ToContainTextAsync("Active alerts");

        // Sorting by requests, then flipping it: the fewest first.
        await page.ClickAsync("#models th:has-text('Requests')");
        var ascending = await page.Locator("#models tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.key)");
        var counts = summary.GetProperty("models").EnumerateArray().OrderBy(m => m.GetProperty("count").GetInt64()).Select(m => m.GetProperty("model").GetString()).ToArray();
        Assert.Equal(counts, ascending);

        await PagesFixture.ScreenshotAsync(page, "overview");
        NoErrors(errors);
    }

    [Fact]
    public async Task A_models_page_shows_its_figures_charts_errors_router_view_instances_and_records()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        // The overview links each model to its page (with the window chosen).
        var link = await page.Locator("#models a:text-is('claude')").GetAttributeAsync("href");
        Assert.Equal("/ui/models/claude?window=1h", link);
        await page.GotoAsync(link!);
        await page.Locator("#records tbody tr").First.WaitForAsync();
        var summary = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude?window=1h");

        var figures = page.Locator("#figures");
        await Assertions.Expect(figures.Locator(".card", new() { HasText = "Requests" })).ToContainTextAsync(PagesFixture.Shown.Count(summary.GetProperty("count").GetInt64()));
        await Assertions.Expect(figures.Locator(".card", new() { HasText = "Latency p95" })).ToContainTextAsync(PagesFixture.Shown.Seconds(summary.GetProperty("latency").GetProperty("p95").GetDouble()));
        await Assertions.Expect(figures.Locator(".card", new() { HasText = "Error rate" })).ToContainTextAsync(PagesFixture.Shown.Percent(summary.GetProperty("error_rate").GetDouble()));
        foreach (var kind in summary.GetProperty("errors_by_kind").EnumerateObject())
            await Assertions.Expect(page.Locator(".bars")).ToContainTextAsync(kind.Name);
        await Assertions.Expect(page.Locator("#router")).ToContainTextAsync("healthy");
        // Latency, TTFT, requests and cost charts from the minute history, and one row per instance.
        await Assertions.Expect(page.Locator("svg.chart").First).ToBeVisibleAsync(new() { Timeout = (float)Patience.TotalMilliseconds });
        Assert.True(await page.Locator("svg.chart").CountAsync() >= 4);
        Assert.True(await page.Locator("svg.chart path").CountAsync() >= 4);
        await Assertions.Expect(page.Locator("tr[data-key='claude-0']")).ToBeVisibleAsync();
        var records = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude/records?limit=50");
        Assert.Equal(records.GetProperty("records").GetArrayLength(), await page.Locator("#records tbody tr").CountAsync());

        await PagesFixture.ScreenshotAsync(page, "model");
        NoErrors(errors);
    }

    [Fact]
    public async Task The_embedding_models_page_shows_its_calls_like_any_models()
    {
        // The simulated model fails now and then, as configured: the call is made until one is answered.
        await Infrastructure.Eventually.UntilAsync(() => fixture.Api.PostAsJsonAsync("/v1/embeddings", new { model = "text-embedding-3-small", input = "for the page" }),
            r => r.IsSuccessStatusCode);
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.GotoAsync("/ui/models/text-embedding-3-small?window=1h");
        await page.Locator("#records tbody tr").First.WaitForAsync();
        var summary = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/performance/models/text-embedding-3-small?window=1h");
        Assert.True(summary.GetProperty("input_tokens").GetInt64() > 0);
        Assert.Equal(0, summary.GetProperty("output_tokens").GetInt64());
        await Assertions.Expect(page.Locator("#figures .card", new() { HasText = "Requests" }))
            .ToContainTextAsync(PagesFixture.Shown.Count(summary.GetProperty("count").GetInt64()));
        NoErrors(errors);
    }

    [Fact]
    public async Task The_hosts_page_charts_each_host_with_its_alerts_and_an_admin_changes_a_threshold()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.GotoAsync("/ui/hosts");
        var hot = page.Locator($"section[data-node='{PagesFixture.HotHost}']");
        await hot.WaitForAsync();
        await Assertions.Expect(hot.Locator("svg.chart").First).ToBeVisibleAsync();
        Assert.True(await hot.Locator("svg.chart").CountAsync() >= 4, "CPU/memory, disk, network and GPU charts");
        Assert.True(await hot.Locator("svg.chart path").CountAsync() >= 6, "a line per series");
        await Assertions.Expect(hot.Locator(".card", new() { HasText = "Active alerts" })).Not.ToContainTextAsync("0");
        await Assertions.Expect(page.Locator("#scaling")).ToContainTextAsync("cluster");
        // One host by name: the others' charts go.
        await page.FillAsync("input[aria-label='Host']", PagesFixture.CalmHost);
        await page.Locator("input[aria-label='Host']").DispatchEventAsync("change");
        await Assertions.Expect(page.Locator("section.host")).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator($"section[data-node='{PagesFixture.CalmHost}']")).ToBeVisibleAsync();
        // With one host picked, its thresholds are edited: an override on that host alone.
        await Assertions.Expect(page.Locator("h2", new() { HasText = $"Alert thresholds on {PagesFixture.CalmHost}" })).ToBeVisibleAsync();
        await page.FillAsync("input[name='gpu_temperature.warning']", "70");
        await page.Locator("#thresholds tr", new() { HasText = "gpu_temperature" }).Locator("button").ClickAsync();
        await Assertions.Expect(page.Locator("#threshold-status")).ToHaveTextAsync("gpu_temperature saved.");
        var onHost = await fixture.Api.GetFromJsonAsync<JsonElement>($"/v1/resources/thresholds/gpu_temperature?node={PagesFixture.CalmHost}");
        Assert.Equal(("node", 70.0), (onHost.GetProperty("scope").GetString(), onHost.GetProperty("levels").GetProperty("warning").GetDouble()));
        var inCluster = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/resources/thresholds/gpu_temperature");
        Assert.Equal(80, inCluster.GetProperty("levels").GetProperty("warning").GetDouble());
        await page.FillAsync("input[aria-label='Host']", "");
        await page.Locator("input[aria-label='Host']").DispatchEventAsync("change");
        await hot.WaitForAsync();

        await page.FillAsync("input[name='disk.warning']", "81");
        await page.Locator("#thresholds tr", new() { HasText = "disk" }).Locator("button").ClickAsync();
        await Assertions.Expect(page.Locator("#threshold-status")).ToHaveTextAsync("disk saved.");
        var thresholds = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/resources/thresholds/disk");
        Assert.Equal(81, thresholds.GetProperty("levels").GetProperty("warning").GetDouble());

        await PagesFixture.ScreenshotAsync(page, "hosts");
        NoErrors(errors);
    }

    [Fact]
    public async Task The_alerts_page_shows_active_alerts_and_a_new_one_arrives_live()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.GotoAsync("/ui/alerts");
        await Assertions.Expect(page.Locator("#live")).ToHaveTextAsync("live", new() { Timeout = (float)Patience.TotalMilliseconds });
        await Assertions.Expect(page.Locator("#active")).ToContainTextAsync(PagesFixture.HotHost);

        // A third host runs hot while the page is open: its alert appears without a reload, from the stream.
        var host = $"ui-live-{Guid.NewGuid():N}"[..16];
        var now = DateTimeOffset.UtcNow;
        for (var i = 0; i < 3; i++) await fixture.PushSampleAsync(host, now.AddSeconds(i - 3), gpu: 99.5, cpu: 97);
        await Assertions.Expect(page.Locator("#events tbody tr[data-live]", new() { HasText = host }).First).ToBeVisibleAsync(new() { Timeout = (float)Patience.TotalMilliseconds });

        // Filtering by host keeps only that host's events.
        await page.FillAsync("input[aria-label='Host']", PagesFixture.CalmHost);
        await page.Locator("input[aria-label='Host']").DispatchEventAsync("change");
        await Assertions.Expect(page.Locator("#events tbody")).Not.ToContainTextAsync(PagesFixture.HotHost);

        // The hot hosts' alerts are queued for a target that refuses connections: it shows retrying, why, and never its URL.
        var target = page.Locator("#notification-targets tbody tr", new() { HasText = "ops-hook" });
        await Assertions.Expect(target).ToContainTextAsync("retrying", new() { Timeout = (float)Patience.TotalMilliseconds });
        await Assertions.Expect(target).ToContainTextAsync("connection failed");
        Assert.DoesNotContain("secret-token", await page.ContentAsync());

        await PagesFixture.ScreenshotAsync(page, "alerts");
        NoErrors(errors);
    }

    [Fact]
    public async Task The_routing_page_shows_a_decision_with_each_candidates_parts_and_the_rejected_with_why()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.GotoAsync("/ui/routing");
        await page.CheckAsync("input[name='requires_vision']");
        await page.SelectOptionAsync("select[name='strategy']", "highest_quality");
        await page.ClickAsync("#route-form button[type=submit]");
        await page.Locator("#candidates tbody tr").First.WaitForAsync();

        var catalog = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/models");
        var withoutVision = catalog.GetProperty("models").EnumerateArray().Where(m => !m.GetProperty("capabilities").GetProperty("vision").GetBoolean())
            .Select(m => m.GetProperty("id").GetString()!).ToList();
        Assert.NotEmpty(withoutVision);
        foreach (var model in withoutVision)
            await Assertions.Expect(page.Locator("#rejected tr", new() { HasText = model })).ToContainTextAsync("vision");
        var chosen = await page.Locator("#selected-model").InnerTextAsync();
        Assert.DoesNotContain(chosen, withoutVision);
        await Assertions.Expect(page.Locator($"#candidates tr[data-model='{chosen}']")).ToBeVisibleAsync();

        await PagesFixture.ScreenshotAsync(page, "routing");
        NoErrors(errors);
    }

    [Fact]
    public async Task The_tuning_page_runs_a_cycle_for_an_admin_and_a_reader_cannot()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.GotoAsync("/ui/tuning");
        await Assertions.Expect(page.Locator("#tuner")).ToContainTextAsync("Last cycle");
        var before = (await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/tuning/status")).GetProperty("cycles").GetInt64();
        await page.ClickAsync("button:text-is('Run a cycle now')");
        await Assertions.Expect(page.Locator("p[role=status]")).ToHaveTextAsync("A cycle ran.");
        var after = (await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/tuning/status")).GetProperty("cycles").GetInt64();
        Assert.Equal(before + 1, after);
        await PagesFixture.ScreenshotAsync(page, "tuning");
        NoErrors(errors);

        var (readerContext, reader, readerErrors) = await fixture.SignedInAsync(PagesFixture.ReaderKey);
        await using var __ = readerContext;
        await reader.GotoAsync("/ui/tuning");
        await Assertions.Expect(reader.Locator("button:text-is('Run a cycle now')")).ToBeDisabledAsync();
        await Assertions.Expect(reader.Locator("#who")).ToContainTextAsync("viewer");
        NoErrors(readerErrors);
    }

    [Fact]
    public async Task The_benchmarks_page_starts_a_run_watches_it_and_shows_its_results_and_charts()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await page.GotoAsync("/ui/benchmarks");
        await page.SelectOptionAsync("select[name='model_types']", new[] { "gpt-3.5-turbo", "local-llama" });
        await page.FillAsync("input[name='iterations_per_model']", "3");
        await page.FillAsync("input[name='concurrency_levels']", "1, 2");
        await page.ClickAsync("#run-form button[type=submit]");
        await page.WaitForURLAsync("**/ui/benchmarks/bench-*");
        await Assertions.Expect(page.Locator("#run")).ToContainTextAsync("completed", new() { Timeout = 60_000 });

        var id = page.Url.Split('/').Last();
        var run = await fixture.Api.GetFromJsonAsync<JsonElement>($"/v1/benchmark/{id}");
        Assert.Equal(4, run.GetProperty("results").GetArrayLength());
        Assert.Equal(4, await page.Locator("#results tbody tr").CountAsync());
        var first = run.GetProperty("results")[0];
        await Assertions.Expect(page.Locator("#results tbody tr").First).ToContainTextAsync(PagesFixture.Shown.Seconds(first.GetProperty("latency").GetProperty("p50").GetDouble()));
        Assert.True(await page.Locator("svg.chart path").CountAsync() >= 3);
        await PagesFixture.ScreenshotAsync(page, "benchmark-run");

        await page.GotoAsync("/ui/benchmarks");
        await Assertions.Expect(page.Locator($"#runs tr[data-run='{id}']")).ToContainTextAsync("completed");
        await PagesFixture.ScreenshotAsync(page, "benchmarks");
        NoErrors(errors);
    }

    [Fact]
    public async Task An_admin_creates_a_key_with_a_budget_sees_its_secret_once_and_its_spend_then_revokes_it_and_a_reader_is_told_admin_is_needed()
    {
        var (context, page, errors) = await fixture.SignedInAsync();
        await using var _ = context;
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.GotoAsync("/ui/keys");
        var name = $"ui-{Guid.NewGuid():N}"[..15];
        await page.FillAsync("#key-form input[name='name']", name);
        await page.CheckAsync("#key-form input[name='scopes'][value='write']");
        await page.SelectOptionAsync("#key-form select[name='models']", new[] { "gpt-4" });
        await page.FillAsync("#key-form input[name='budget_usd']", "5");
        await page.SelectOptionAsync("#key-form select[name='budget_period']", "day");
        await page.FillAsync("#key-form input[name='rpm']", "100");
        await page.ClickAsync("#key-form button[type=submit]");

        // The secret, once, with a copy button that puts it on the clipboard.
        var shown = page.Locator("#secret-value");
        await Assertions.Expect(shown).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^kp-[A-Za-z0-9_-]{43}$"));
        var secret = await shown.InnerTextAsync();
        await page.ClickAsync("#copy-secret");
        await Assertions.Expect(page.Locator("#secret")).ToContainTextAsync("Copied.");
        Assert.Equal(secret, await page.EvaluateAsync<string>("() => navigator.clipboard.readText()"));
        var listed = await fixture.Api.GetFromJsonAsync<JsonElement>("/v1/keys");
        var key = listed.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("name").GetString() == name);
        var id = key.GetProperty("id").GetString()!;
        Assert.Equal(("day", 5.0, 100), (key.GetProperty("budget_period").GetString(), key.GetProperty("budget_usd").GetDouble(), key.GetProperty("rpm").GetInt32()));
        var row = page.Locator($"#keys tr[data-key='{id}']");
        await Assertions.Expect(row).ToContainTextAsync($"{PagesFixture.Shown.Cost(5)} / day");
        await Assertions.Expect(row.Locator("td.spend")).ToHaveTextAsync("$0");
        // The configured keys are listed by name.
        await Assertions.Expect(page.Locator("#configured")).ToContainTextAsync("viewer");

        // One call with the new key through the gateway to a priced model: charged to the key's account.
        using var gateway = new HttpClient { BaseAddress = fixture.Silo.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        gateway.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        // The simulated model fails now and then, as configured: the call is made until one is answered.
        using var answered = await Infrastructure.Eventually.UntilAsync(
            () => gateway.PostAsJsonAsync("/v1/chat/completions", new { model = "gpt-4", max_tokens = 10, messages = new[] { new { role = "user", content = "Say hi." } } }),
            r => r.IsSuccessStatusCode);
        var usage = (await Infrastructure.Eventually.UntilAsync(() => fixture.Api.GetFromJsonAsync<JsonElement>($"/v1/keys/{id}"),
            k => k.GetProperty("usage").GetProperty("spend_usd").GetDouble() > 0 && k.GetProperty("usage").GetProperty("in_flight").GetInt32() == 0)).GetProperty("usage");
        var spend = usage.GetProperty("spend_usd").GetDouble();
        await page.ReloadAsync();
        await Assertions.Expect(row.Locator("td.spend")).ToHaveTextAsync(PagesFixture.Shown.Cost(spend));
        await Assertions.Expect(row).ToContainTextAsync(PagesFixture.Shown.Cost(usage.GetProperty("remaining_usd").GetDouble()));
        Assert.Equal(1, await row.Locator(".meter .fill").CountAsync());
        // Reloaded, the secret is gone for good.
        Assert.DoesNotContain(secret, await page.ContentAsync());
        await PagesFixture.ScreenshotAsync(page, "keys");

        // The key's own page: spend per model.
        await row.Locator($"a:text-is('{name}')").ClickAsync();
        await page.WaitForURLAsync($"**/ui/keys/{id}");
        var gpt4 = usage.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == "gpt-4");
        await Assertions.Expect(page.Locator("#key-models tr[data-model='gpt-4']")).ToContainTextAsync(PagesFixture.Shown.Cost(gpt4.GetProperty("spend_usd").GetDouble()));
        await Assertions.Expect(page.Locator("#figures .card", new() { HasText = "Requests" })).ToContainTextAsync(PagesFixture.Shown.Count(usage.GetProperty("requests").GetInt64()));
        await PagesFixture.ScreenshotAsync(page, "key");

        // Revoked through the page, after a confirmation: gone from the list, and the gateway refuses the key.
        await page.GotoAsync("/ui/keys");
        await row.Locator("button:text-is('Revoke')").ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync($"Revoke {name}?");
        await row.Locator("button:text-is('Yes, revoke')").ClickAsync();
        await Assertions.Expect(page.Locator("#key-status")).ToHaveTextAsync($"Key {name} revoked.");
        await Assertions.Expect(row).ToHaveCountAsync(0);
        using var refused = await gateway.PostAsJsonAsync("/v1/chat/completions", new { model = "gpt-4", max_tokens = 10, messages = new[] { new { role = "user", content = "Again." } } });
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        NoErrors(errors);

        // A reader is told the page needs admin, and the page asks the API for nothing it would refuse.
        var (readerContext, reader, readerErrors) = await fixture.SignedInAsync(PagesFixture.ReaderKey);
        await using var __ = readerContext;
        await reader.GotoAsync("/ui/keys");
        await Assertions.Expect(reader.Locator("#admin-needed")).ToContainTextAsync("needs a key with the admin scope");
        await Assertions.Expect(reader.Locator("#key-form")).ToHaveCountAsync(0);
        NoErrors(readerErrors);
    }

    [Fact]
    public async Task At_a_phones_width_every_page_fits_and_the_menu_opens()
    {
        var (context, page, errors) = await fixture.SignedInAsync(width: 390, height: 844);
        await using var _ = context;
        foreach (var path in new[] { "/ui", "/ui/models/gpt-4", "/ui/hosts", "/ui/alerts", "/ui/routing", "/ui/tuning", "/ui/benchmarks", "/ui/keys" })
        {
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle, new() { Timeout = 10_000 }).ContinueWith(_ => { });
            await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
            Assert.True(overflow <= 1, $"{path} is {overflow}px wider than the phone");
        }
        await page.GotoAsync("/ui");
        await Assertions.Expect(page.Locator(".top nav")).ToBeHiddenAsync();
        await page.ClickAsync(".top .menu");
        await Assertions.Expect(page.Locator(".top nav a:text-is('Hosts')")).ToBeVisibleAsync();
        await PagesFixture.ScreenshotAsync(page, "overview-phone");
        NoErrors(errors);
    }

    [Fact]
    public async Task Without_a_key_the_pages_send_the_browser_to_sign_in_a_wrong_key_is_refused_and_the_dashboard_links_back_for_an_admin()
    {
        var context = await fixture.Browser.NewContextAsync(new() { BaseURL = fixture.BaseUrl });
        await using var _ = context;
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/hosts");
        Assert.Contains("/signin?return=%2Fui%2Fhosts", page.Url);
        await page.FillAsync("#key", "not-a-key-not-a-key-not-a-key-000");
        await page.ClickAsync("input[type=submit]");
        await Assertions.Expect(page.Locator(".error")).ToHaveTextAsync("That key is not valid.");
        // The dashboard shows grain state and the live log: an admin's (a reader's request for it is 403).
        await page.FillAsync("#key", PagesFixture.AdminKey);
        await page.ClickAsync("input[type=submit]");
        await page.WaitForURLAsync("**/ui/hosts");
        // The Orleans dashboard is one click away, and it links back.
        await page.ClickAsync("#dashboard-link");
        await page.WaitForURLAsync("**/dashboard/**");
        await page.ClickAsync("#kyros-pages-link");
        await page.WaitForURLAsync("**/ui");
        await Assertions.Expect(page.Locator("main h1")).ToHaveTextAsync("Overview");
    }
}
