using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Client;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Tests.Demo;

/// <summary>The demo: simulated traffic through the gateway (silo switch and CLI), feedback, and a host that heats up until it raises alerts.</summary>
public sealed class DemoTests
{
    [Fact]
    public void The_hot_host_warms_for_two_thirds_of_its_cycle_then_cools()
    {
        var cycle = TimeSpan.FromMinutes(3);
        Assert.Equal(0, DemoTraffic.Heat(TimeSpan.Zero, cycle), 9);
        Assert.Equal(0.5, DemoTraffic.Heat(TimeSpan.FromSeconds(60), cycle), 9);
        Assert.Equal(1, DemoTraffic.Heat(TimeSpan.FromSeconds(120), cycle), 9);
        Assert.Equal(0.5, DemoTraffic.Heat(TimeSpan.FromSeconds(150), cycle), 9);
        Assert.Equal(0.5, DemoTraffic.Heat(TimeSpan.FromSeconds(180 + 60), cycle), 9);
    }

    [Fact]
    public async Task With_the_demo_switch_every_simulated_model_gets_traffic_and_feedback_and_the_hot_host_raises_an_alert()
    {
        await using var silo = await HttpSilo.StartAsync(null, "--Kyros:Demo=true", "--Kyros:Gateway:SimulationTimeScale=0.01",
            "--Kyros:DemoTraffic:GenerationsPerSecond=20", "--Kyros:DemoTraffic:SampleInterval=00:00:00.250", "--Kyros:DemoTraffic:HeatCycle=00:00:12");
        var cluster = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/cluster");
        Assert.True(cluster.GetProperty("demo").GetBoolean());

        var catalog = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/models");
        var simulated = catalog.GetProperty("models").EnumerateArray().Where(m => m.GetProperty("provider").GetString() == "simulated")
            .Select(m => m.GetProperty("id").GetString()!).ToHashSet();
        Assert.NotEmpty(simulated);
        var summary = await Eventually.UntilAsync(() => silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/summary?window=5m"),
            s => s.GetProperty("models").EnumerateArray().Count(m => simulated.Contains(m.GetProperty("model").GetString()!) && m.GetProperty("count").GetInt64() > 0) == simulated.Count
                 && s.GetProperty("cluster").GetProperty("quality").GetProperty("count").GetInt64() > 0,
            TimeSpan.FromSeconds(60));
        Assert.True(summary.GetProperty("cluster").GetProperty("count").GetInt64() >= simulated.Count);

        // The hot host warms until the GPU's thresholds are crossed; the steady one stays quiet.
        var alerts = await Eventually.UntilAsync(() => silo.Http.GetFromJsonAsync<JsonElement>($"/v1/resources/alerts?node={DemoTraffic.Hosts[0]}&level=warning"),
            a => a.GetProperty("events").GetArrayLength() > 0, TimeSpan.FromSeconds(60));
        Assert.All(alerts.GetProperty("events").EnumerateArray(), e => Assert.Equal(DemoTraffic.Hosts[0], e.GetProperty("node").GetString()));
        var steady = await silo.Http.GetFromJsonAsync<JsonElement>($"/v1/resources/alerts?node={DemoTraffic.Hosts[1]}&level=warning");
        Assert.Equal(0, steady.GetProperty("events").GetArrayLength());
        var hot = await silo.Http.GetFromJsonAsync<JsonElement>($"/v1/resources/nodes/{DemoTraffic.Hosts[0]}");
        Assert.Equal(DemoTraffic.HostGroup, hot.GetProperty("group").GetString());
    }

    [Fact]
    public async Task Kyros_perf_demo_drives_traffic_for_its_duration_and_a_bad_rate_exits_2()
    {
        await using var silo = await HttpSilo.StartAsync(null, "--Kyros:Gateway:SimulationTimeScale=0.01");
        var run = await CliProcess.RunAsync(silo.GatewayPort, "demo", "--duration", "6", "--rate", "10");
        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Contains("simulated", run.Output);
        var summary = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/performance/summary?window=5m");
        Assert.True(summary.GetProperty("cluster").GetProperty("count").GetInt64() > 0);
        var nodes = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/resources/nodes");
        Assert.Contains(DemoTraffic.Hosts[0], nodes.GetProperty("nodes").EnumerateArray().Select(n => n.GetString()));

        var bad = await CliProcess.RunAsync(silo.GatewayPort, "demo", "--rate", "0");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--rate", bad.Output);
    }

    [Fact]
    public void A_bad_demo_setting_stops_the_silo_at_start_naming_it()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Kyros.Perf.Silo.KyrosSiloHost.Build(
            ["--Kyros:Demo=true", "--Kyros:DemoTraffic:GenerationsPerSecond=0", $"--Kyros:HttpUrl=http://127.0.0.1:{FreePort.Next()}"]));
        Assert.Contains(error.Failures, f => f.StartsWith("Kyros:DemoTraffic:GenerationsPerSecond", StringComparison.Ordinal));
    }
}
