using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Kyros.Perf.Tests.Pages;

/// <summary>
/// A silo with API keys and data (records for three models, two hosts, one of them hot enough for alerts), and
/// Debian's Chromium driven by Playwright. Screenshots go to <c>TestResults/screenshots</c> beside the test results.
/// </summary>
public sealed class PagesFixture : IAsyncLifetime
{
    public const string AdminKey = "ui-admin-key-0123456789abcdef0123456789";
    public const string ReaderKey = "ui-reader-key-0123456789abcdef012345678";
    public static readonly string[] Models = ["gpt-4", "claude", "gpt-3.5-turbo"];
    public const string HotHost = "ui-gpu-hot";
    public const string CalmHost = "ui-gpu-calm";

    private IPlaywright? _playwright;

    public HttpSilo Silo { get; private set; } = null!;
    /// <summary>The API as an admin, for seeding and for reading the figures the pages must show.</summary>
    public HttpClient Api { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public string BaseUrl => Silo.Http.BaseAddress!.ToString().TrimEnd('/');

    /// <summary>Port 9 (discard) on loopback: refused, so the target fails; its URL must never reach a page.</summary>
    public const string DeadHookUrl = "http://127.0.0.1:9/hooks/secret-token";

    public static string ChromiumPath => Environment.GetEnvironmentVariable("KYROS_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    public async ValueTask InitializeAsync()
    {
        Silo = await HttpSilo.StartAsync(null,
            "--Kyros:Auth:Keys:0:Name=operator", $"--Kyros:Auth:Keys:0:Key={AdminKey}",
            "--Kyros:Auth:Keys:0:Scopes:0=read", "--Kyros:Auth:Keys:0:Scopes:1=write", "--Kyros:Auth:Keys:0:Scopes:2=admin",
            "--Kyros:Auth:Keys:1:Name=viewer", $"--Kyros:Auth:Keys:1:Key={ReaderKey}", "--Kyros:Auth:Keys:1:Scopes:0=read",
            "--Kyros:Gateway:SimulationTimeScale=0.01",
            // A notification target nothing listens on: the Alerts page shows it retrying.
            "--Kyros:Notifications:Webhooks:0:Name=ops-hook", $"--Kyros:Notifications:Webhooks:0:Url={DeadHookUrl}");
        Api = new HttpClient { BaseAddress = Silo.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminKey);
        await SeedAsync();

        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException($"Chromium is not at {ChromiumPath}: ./test.sh installs Debian's chromium (or set KYROS_CHROMIUM).");
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new() { ExecutablePath = ChromiumPath, Headless = true });
    }

    private async Task SeedAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var records = new List<object>();
        for (var m = 0; m < Models.Length; m++)
        for (var i = 0; i < 20 + 15 * m; i++)
        {
            var failed = i % (7 + m) == 3;
            records.Add(new
            {
                model = Models[m], instance = $"{Models[m]}-{i % 2}", timestamp = now.AddSeconds(-200 + i * 3),
                execution_time = 0.3 + 0.5 * m + 0.01 * i, time_to_first_token = 0.1 + 0.05 * m, input_tokens = 100, output_tokens = 50 + i,
                success = !failed, error_kind = failed ? (i % 2 == 0 ? "timeout" : "server_error") : null, cost = 0.001 * (m + 1),
                quality_score = failed ? (double?)null : 0.6 + 0.1 * m, request_id = $"ui-{m}-{i}",
            });
        }
        (await Api.PostAsJsonAsync("/v1/performance/records", records)).EnsureSuccessStatusCode();
        for (var i = 0; i < 6; i++)
        {
            await PushSampleAsync(HotHost, now.AddSeconds(-60 + i * 5), gpu: 97, cpu: 88);
            await PushSampleAsync(CalmHost, now.AddSeconds(-60 + i * 5), gpu: 30, cpu: 20);
        }
    }

    public async Task PushSampleAsync(string node, DateTimeOffset at, double gpu, double cpu)
    {
        var sample = new
        {
            timestamp = at, cpu_percent = cpu, memory_percent = 50.0, group = "ui-test",
            disks = new[] { new { mount = "/", used_bytes = 400L << 30, total_bytes = 1L << 40 } },
            networks = new[] { new { @interface = "eth0", receive_bytes_per_second = 2e6, transmit_bytes_per_second = 1e6, link_bytes_per_second = 1.25e9 } },
            gpus = new[] { new { index = 0, name = "Test GPU", utilization_percent = gpu, memory_used_bytes = 10L << 30, memory_total_bytes = 80L << 30, temperature_celsius = 40 + gpu / 2 } },
        };
        (await Api.PostAsJsonAsync($"/v1/resources/nodes/{node}/samples", sample)).EnsureSuccessStatusCode();
    }

    /// <summary>A signed-in page (the sign-in form, as a person would) that collects console errors.</summary>
    public async Task<(IBrowserContext Context, IPage Page, List<string> Errors)> SignedInAsync(string key = AdminKey, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = BaseUrl, ViewportSize = new() { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        // The whole suite shares 2 cores with silos, Redis and this browser: a page may take far longer than alone.
        page.SetDefaultTimeout(60_000);
        page.SetDefaultNavigationTimeout(60_000);
        Assertions.SetDefaultExpectTimeout(15_000);
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error") lock (errors) errors.Add(message.Text);
        };
        page.Response += (_, response) =>
        {
            if (response.Status >= 400) lock (errors) errors.Add($"{response.Status} {response.Request.Method} {response.Url}");
        };
        page.PageError += (_, error) =>
        {
            lock (errors) errors.Add(error);
        };
        await page.GotoAsync("/ui");
        await page.WaitForURLAsync("**/signin**");
        await page.FillAsync("#key", key);
        await page.ClickAsync("input[type=submit]");
        await page.WaitForURLAsync("**/ui");
        return (context, page, errors);
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Path.Combine(BuiltAssembly.RepositoryRoot(), "TestResults", "screenshots");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"{name}.png");
        await page.ScreenshotAsync(new() { Path = path, FullPage = true });
        TestContext.Current.AddAttachment($"screenshot-{name}", await File.ReadAllBytesAsync(path), "image/png");
    }

    /// <summary>The pages' own number formats (app.js), so that a figure on the page can be compared with the API's.</summary>
    public static class Shown
    {
        // en-US grouping, as the pages use (the invariant culture groups the same way).
        public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

        public static string Seconds(double value) => value < 1
            ? $"{(value * 1000).ToString(value < 0.01 ? "F2" : "F0", CultureInfo.InvariantCulture)} ms"
            : $"{value.ToString(value < 10 ? "F2" : "F1", CultureInfo.InvariantCulture)} s";

        /// <summary>fmt.cost: cents from a dollar up, a tenth of a cent from a cent up, else two significant digits (toPrecision(2)).</summary>
        public static string Cost(double value)
        {
            if (value == 0) return "$0";
            if (value >= 1) return $"${value.ToString("F2", CultureInfo.InvariantCulture)}";
            if (value >= 0.01) return $"${value.ToString("F3", CultureInfo.InvariantCulture)}";
            // toPrecision(2) writes plain decimals down to 1e-6, which is all one call's spend needs.
            var decimals = 1 - (int)Math.Floor(Math.Log10(value));
            return $"${Math.Round(value, decimals, MidpointRounding.AwayFromZero).ToString("F" + decimals, CultureInfo.InvariantCulture)}";
        }

        public static string Percent(double value, int digits = 1) => $"{(value * 100).ToString("F" + digits, CultureInfo.InvariantCulture)}%";
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Api?.Dispose();
        if (Silo is not null) await Silo.DisposeAsync();
    }
}
