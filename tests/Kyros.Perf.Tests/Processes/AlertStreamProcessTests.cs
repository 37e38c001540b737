using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Kyros.Perf.Client;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kyros.Perf.Tests.Processes;

public sealed class AlertStreamProcessTests(RedisServer redis)
{
    [Fact]
    public async Task An_alert_raised_on_one_silo_reaches_an_sdk_subscriber_connected_to_another()
    {
        var serviceId = $"alerts-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-alerts-").FullName;
        await using var first = await SiloProcess.StartAsync(redis.ConnectionString, serviceId, "silo-a", data);
        await using var second = await SiloProcess.StartAsync(redis.ConnectionString, serviceId, "silo-b", data);

        // The subscriber knows only silo-b's gateway.
        using var host = await ClientHost.StartAsync(o =>
        {
            o.Gateways = [$"127.0.0.1:{second.GatewayPort}"];
            o.ServiceId = serviceId;
            o.ClusterId = serviceId;
        });
        var client = host.Services.GetRequiredService<KyrosPerfClient>();
        var received = Channel.CreateUnbounded<AlertEvent>();
        await using var subscription = await client.SubscribeAlertsAsync(alert => received.Writer.WriteAsync(alert).AsTask());

        // Pushed to silo-a over HTTP: the host has no silo of its own, so its grain is placed on silo-a, which raises the alert.
        using var http = new HttpClient { BaseAddress = new Uri(first.HttpUrl) };
        var now = DateTimeOffset.UtcNow;
        var body = $$"""
            [{"node": "edge-box", "timestamp": "{{now.AddSeconds(-10):O}}", "memory_percent": 93},
             {"node": "edge-box", "timestamp": "{{now.AddSeconds(-5):O}}", "memory_percent": 94}]
            """;
        (await http.PostAsync("/v1/resources/nodes/edge-box/samples", new StringContent(body, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        var summary = await http.GetFromJsonAsync<JsonElement>("/v1/resources/nodes/edge-box");
        Assert.Equal("silo-a", summary.GetProperty("silo").GetString());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        AlertEvent alert;
        do alert = await received.Reader.ReadAsync(timeout.Token);
        while (alert.Node != "edge-box");
        Assert.Equal((AlertEventKind.Raised, AlertLevel.Critical, "memory"), (alert.Kind, alert.Level, alert.Series));

        // Each silo's own host grain lives on that silo.
        var own = await client.GetNodeSummaryAsync("silo-b", TimeSpan.FromMinutes(1));
        Assert.Equal("silo-b", own.Silo);
        await subscription.DisposeAsync();
        await host.StopAsync();
    }
}
