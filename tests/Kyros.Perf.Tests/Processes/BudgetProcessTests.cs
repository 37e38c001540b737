using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// A key's budget across three real silo processes on Redis, over HTTP: nine callers spending one key's 0.05 USD at
/// once never spend more than the budget, are then refused in OpenAI's and Anthropic's shapes with the wait until the
/// period ends, and the spend shown everywhere is what the answers cost. A key's requests a minute hold across the
/// silos the same way.
/// </summary>
public sealed class BudgetProcessTests(RedisServer redis)
{
    private const string Admin = "operator-key-0123456789abcdef";
    private const double Budget = 0.05;
    private readonly BearerHttp _http = new();

    [Fact]
    public async Task Nine_callers_on_three_silos_never_spend_more_than_the_keys_budget_then_get_429_budget_exceeded_until_the_period_ends_and_requests_a_minute_hold_cluster_wide()
    {
        var serviceId = $"budget-{Guid.NewGuid():N}"[..16];
        string[] settings =
        [
            "--Kyros:Auth:Keys:0:Name=ops", $"--Kyros:Auth:Keys:0:Key={Admin}", "--Kyros:Auth:Keys:0:Scopes:0=read", "--Kyros:Auth:Keys:0:Scopes:1=write",
            "--Kyros:Auth:Keys:0:Scopes:2=admin", "--Kyros:Gateway:SimulationTimeScale=0.01",
        ];
        var silos = await Task.WhenAll(new[] { "budget-a", "budget-b", "budget-c" }.Select(n =>
            SiloProcess.StartAsync(redis.ConnectionString, serviceId, n, Directory.CreateTempSubdirectory($"kyros-{n}-").FullName, settings)));
        await using var a = silos[0];
        await using var b = silos[1];
        await using var c = silos[2];

        using var created = await _http.Send(HttpMethod.Post, $"{a.HttpUrl}/v1/keys", Admin,
            new { name = "team-budget", scopes = new[] { "write", "read" }, models = new[] { "gpt-4" }, budget_usd = Budget, budget_period = "day" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        var (secret, id) = (key.GetProperty("key").GetString()!, key.GetProperty("id").GetString()!);
        foreach (var silo in silos)
            await Eventually.UntilAsync(() => _http.Status(HttpMethod.Get, $"{silo.HttpUrl}/v1/models", secret), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(2));

        // Nine callers, three on each silo, each calling until it is refused.
        var callers = Enumerable.Range(0, 9).Select(i => CallUntilRefusedAsync(silos[i % 3].HttpUrl, secret)).ToArray();
        var results = await Task.WhenAll(callers);
        var costs = results.SelectMany(r => r.Costs).ToList();
        var worstCase = results.Max(r => r.WorstCase);
        Assert.True(costs.Count >= 10, $"only {costs.Count} calls were admitted");
        // Never more than the budget (every call's worst case was honest), and no refusal while a whole call still fit
        // beside the other eight callers' holds.
        Assert.True(costs.Sum() <= Budget + 1e-9, $"spent {costs.Sum()} of {Budget}");
        Assert.True(costs.Sum() > Budget - 9 * worstCase, $"spent only {costs.Sum()} of {Budget} (worst case a call {worstCase})");

        // The refusal: 429 in OpenAI's shape, with the seconds until the day ends (UTC) in Retry-After.
        var refusal = results[0].Refusal;
        var untilMidnight = (DateTimeOffset.UtcNow.Date.AddDays(1) - DateTime.UtcNow).TotalSeconds;
        Assert.InRange(refusal.RetryAfter, untilMidnight - 60, untilMidnight + 5);
        Assert.Equal("budget_exceeded", refusal.Error.GetProperty("code").GetString());
        Assert.Equal("insufficient_quota", refusal.Error.GetProperty("type").GetString());
        Assert.Contains("team-budget", refusal.Error.GetProperty("message").GetString());
        // And in Anthropic's, through another silo.
        using (var messages = await _http.Send(HttpMethod.Post, $"{c.HttpUrl}/v1/messages", secret,
                   new { model = "gpt-4", max_tokens = 20, messages = new[] { new { role = "user", content = "Say hi." } } }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, messages.StatusCode);
            Assert.NotNull(messages.Headers.RetryAfter);
            Assert.Equal("rate_limit_error", (await messages.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error").GetProperty("type").GetString());
        }

        // Every silo shows the same spend: what the answers cost, each call counted, nothing held.
        foreach (var silo in silos)
        {
            // Settlements land just after their answers.
            var usage = (await Eventually.UntilAsync(() => _http.Json(HttpMethod.Get, $"{silo.HttpUrl}/v1/keys/{id}", Admin),
                k => k.GetProperty("usage").GetProperty("in_flight").GetInt32() == 0, TimeSpan.FromSeconds(5))).GetProperty("usage");
            Assert.Equal(costs.Sum(), usage.GetProperty("spend_usd").GetDouble(), 9);
            Assert.Equal(costs.Count, usage.GetProperty("requests").GetInt64());
            Assert.Equal(0, usage.GetProperty("in_flight").GetInt32());
            Assert.Equal(0, usage.GetProperty("reserved_usd").GetDouble());
            Assert.True(usage.GetProperty("refused").GetInt64() >= 10);
            Assert.Equal("day", usage.GetProperty("period").GetString());
            var model = Assert.Single(usage.GetProperty("models").EnumerateArray());
            Assert.Equal("gpt-4", model.GetProperty("model").GetString());
            Assert.Equal(costs.Sum(), model.GetProperty("spend_usd").GetDouble(), 9);
        }

        // The cluster summary and the metrics carry it too, by the key's name.
        var summarised = Assert.Single((await _http.Json(HttpMethod.Get, $"{b.HttpUrl}/v1/performance/summary", Admin)).GetProperty("keys").EnumerateArray());
        Assert.Equal("team-budget", summarised.GetProperty("name").GetString());
        Assert.Equal(costs.Sum(), summarised.GetProperty("usage").GetProperty("spend_usd").GetDouble(), 9);
        Assert.Equal(Budget, summarised.GetProperty("usage").GetProperty("budget_usd").GetDouble());
        using (var metrics = await _http.Send(HttpMethod.Get, $"{c.HttpUrl}/metrics", Admin, null))
        {
            var lines = (await metrics.Content.ReadAsStringAsync()).Split('\n');
            var spend = Assert.Single(lines, l => l.StartsWith("kyros_key_spend_usd{", StringComparison.Ordinal));
            Assert.StartsWith("kyros_key_spend_usd{key=\"team-budget\",period=\"day\",model=\"gpt-4\"} ", spend);
            Assert.Equal(costs.Sum(), double.Parse(spend.Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture), 9);
            Assert.Contains($"kyros_key_budget_usd{{key=\"team-budget\",period=\"day\"}} {Budget.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", lines);
            Assert.Contains($"kyros_key_requests{{key=\"team-budget\",period=\"day\",model=\"gpt-4\"}} {costs.Count}", lines);
            Assert.DoesNotContain(lines, l => l.Contains(secret, StringComparison.Ordinal));
        }

        // A higher budget lets the key call again at once, through any silo.
        using (var raised = await _http.Send(HttpMethod.Patch, $"{b.HttpUrl}/v1/keys/{id}", Admin, new { budget_usd = 1.0 }))
            Assert.Equal(HttpStatusCode.OK, raised.StatusCode);
        await Eventually.UntilAsync(() => _http.Status(HttpMethod.Post, $"{c.HttpUrl}/v1/chat/completions", secret, Chat()), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(2));

        // A key with 5 requests a minute: nine callers on three silos, two calls each, get 5 answers in all.
        using var limitedKey = await _http.Send(HttpMethod.Post, $"{a.HttpUrl}/v1/keys", Admin, new { name = "team-rpm", scopes = new[] { "write", "read" }, rpm = 5 });
        var limited = (await limitedKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!;
        foreach (var silo in silos)
            await Eventually.UntilAsync(() => _http.Status(HttpMethod.Get, $"{silo.HttpUrl}/v1/models", limited), s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(2));
        var answers = await Task.WhenAll(Enumerable.Range(0, 9).Select(async i =>
        {
            var statuses = new List<(HttpStatusCode Status, TimeSpan? RetryAfter)>();
            for (var call = 0; call < 2; call++)
            {
                using var response = await _http.Send(HttpMethod.Post, $"{silos[i % 3].HttpUrl}/v1/chat/completions", limited, Chat());
                statuses.Add((response.StatusCode, response.Headers.RetryAfter?.Delta));
            }
            return statuses;
        }));
        var all = answers.SelectMany(s => s).ToList();
        Assert.Equal(5, all.Count(s => s.Status == HttpStatusCode.OK));
        Assert.All(all.Where(s => s.Status != HttpStatusCode.OK), s =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, s.Status);
            Assert.InRange(s.RetryAfter!.Value.TotalSeconds, 1, 60);
        });
    }

    private sealed record Refused(double RetryAfter, JsonElement Error);

    private sealed record CallerResult(List<double> Costs, double WorstCase, Refused Refusal);

    private async Task<CallerResult> CallUntilRefusedAsync(string url, string secret)
    {
        var costs = new List<double>();
        var worst = 0.0;
        for (var i = 0; i < 200; i++)
        {
            using var response = await _http.Send(HttpMethod.Post, $"{url}/v1/chat/completions", secret, Chat());
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
                return new CallerResult(costs, worst, new Refused(response.Headers.RetryAfter!.Delta!.Value.TotalSeconds, body.GetProperty("error")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            costs.Add(body.GetProperty("kyros").GetProperty("cost").GetDouble());
            // The most the call could have cost: its prompt and every output token allowed, at gpt-4's prices.
            worst = Math.Max(worst, (body.GetProperty("usage").GetProperty("prompt_tokens").GetInt64() * 0.03 + MaxTokens * 0.06) / 1000);
        }
        throw new InvalidOperationException("200 calls were admitted under a 0.05 USD budget");
    }

    private const int MaxTokens = 20;

    private static object Chat() => new { model = "gpt-4", max_tokens = MaxTokens, messages = new[] { new { role = "user", content = "Say hi." } } };
}
