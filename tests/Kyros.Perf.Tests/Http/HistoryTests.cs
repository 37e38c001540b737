using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Silo;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Tests.Http;

public sealed class HistoryTests
{
    [Fact]
    public async Task History_holds_minutes_and_hours_with_live_percentiles_and_survives_a_restart()
    {
        JsonElement before;
        string directory;
        await using (var silo = await HttpSilo.StartAsync())
        {
            directory = silo.DataDirectory;
            var body = "[" + string.Join(",", Records.LogNormalSeconds(200, seed: 9).Select((s, i) =>
                $$"""{"model": "claude", "execution_time": {{s}}, "output_tokens": 10, "request_id": "h-{{i}}"}""")) + "]";
            (await silo.Http.PostAsync("/v1/performance/records", new StringContent(body, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
            var live = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude?window=5m");

            // The grain hands changed minutes to history at its next checkpoint (every second here).
            before = await WaitForHistoryAsync(silo.Http, "1m");
            var point = Assert.Single(before.GetProperty("points").EnumerateArray());
            Assert.Equal(200, point.GetProperty("count").GetInt64());
            Assert.Equal(live.GetProperty("latency").GetProperty("p95").GetDouble(), point.GetProperty("latency").GetProperty("p95").GetDouble());
            var hours = await WaitForHistoryAsync(silo.Http, "1h");
            Assert.Equal(200, hours.GetProperty("total").GetProperty("count").GetInt64());
        }

        await using var restarted = await HttpSilo.StartAsync(directory);
        var after = await restarted.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude/history?resolution=1m");
        Assert.Equal(before.GetProperty("points").GetRawText(), after.GetProperty("points").GetRawText());

        // The embedded silo kept its live state in memory; the model rebuilds it from history on activation,
        // so new records add to the old ones instead of overwriting their minutes.
        var rebuilt = await restarted.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude?window=1h");
        Assert.Equal(200, rebuilt.GetProperty("count").GetInt64());
        var one = """{"model": "claude", "execution_time": 0.5, "request_id": "after-restart"}""";
        (await restarted.Http.PostAsync("/v1/performance/records", new StringContent(one, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        await Eventually.UntilAsync(() => restarted.Http.GetFromJsonAsync<JsonElement>("/v1/performance/models/claude/history?resolution=1m"),
            h => h.GetProperty("total").GetProperty("count").GetInt64() == 201, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void A_bad_silo_setting_stops_start_up_naming_it()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kyros:SiloPort"] = "70000",
            ["Kyros:HttpUrl"] = "ftp://nowhere",
        }).Build();
        var error = Assert.Throws<OptionsValidationException>(() => KyrosSiloHost.ReadOptions(configuration));
        Assert.Contains(error.Failures, f => f.Contains("Kyros:SiloPort"));
        Assert.Contains(error.Failures, f => f.Contains("Kyros:HttpUrl"));
    }

    [Fact]
    public async Task A_bad_catalog_stops_start_up_naming_the_entry()
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => HttpSilo.StartAsync(null,
            "--Kyros:Catalog:Models:0:Id=m1", "--Kyros:Catalog:Models:0:Provider=carrier-pigeon", "--Kyros:Catalog:Models:0:Tokenizer=p50k"));
        Assert.Contains(error.Failures, f => f.Contains("Kyros:Catalog:Models:0:Provider"));
        Assert.Contains(error.Failures, f => f.Contains("Kyros:Catalog:Models:0:Tokenizer must be one of o200k, cl100k"));
    }

    private static async Task<JsonElement> WaitForHistoryAsync(HttpClient http, string resolution)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var history = await http.GetFromJsonAsync<JsonElement>($"/v1/performance/models/claude/history?resolution={resolution}");
            if (history.GetProperty("points").GetArrayLength() > 0) return history;
            Assert.True(DateTime.UtcNow < deadline, "history stayed empty for 30 s");
            await Task.Delay(200);
        }
    }
}
