using System.Text.Json;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Notifications;

/// <summary>A real Alertmanager as a target: a model alert of the cluster fires there, is kept alive by re-sends, and ends when it resolves.</summary>
public sealed class AlertmanagerNotificationTests(RedisServer redis)
{
    [Fact]
    public async Task A_model_alert_fires_in_alertmanager_with_its_labels_stays_while_firing_and_is_gone_once_resolved()
    {
        await using var alertmanager = await AlertmanagerProcess.StartAsync();
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 1, settings: new Dictionary<string, string?>
        {
            ["Kyros:Notifications:Alertmanager:0:Url"] = alertmanager.Url,
            ["Kyros:Notifications:Alertmanager:0:Subjects:0"] = "model",
            ["Kyros:Notifications:PumpInterval"] = "00:00:00.050",
            ["Kyros:Notifications:AlertmanagerResendInterval"] = "00:00:00.500",
        });
        var model = $"am-{Guid.NewGuid():N}"[..12];
        var raisedAt = DateTimeOffset.UtcNow.AddSeconds(-1);
        // As a model's stats grain reports it: appended to the cluster's alert log, which feeds every target's outbox.
        var raised = new AlertEvent
        {
            AlertId = $"model:{model}:error_rate:{raisedAt.ToUnixTimeSeconds()}", Node = model, Series = "error_rate", Metric = "error_rate",
            Kind = AlertEventKind.Raised, Level = AlertLevel.Critical, Value = 31, Threshold = 25, Timestamp = raisedAt, Subject = AlertSubjects.Model,
            Message = $"Model {model}: error_rate is critical at 31% over 5m (62 of 200 calls failed) (threshold 25%).",
        };
        var log = cluster.Cluster.Client.GetGrain<IAlertLogGrain>(0);
        await log.AppendAsync([raised]);

        JsonElement? Find(JsonElement[] alerts) =>
            alerts.Where(a => a.GetProperty("labels").TryGetProperty("model", out var m) && m.GetString() == model).Cast<JsonElement?>().FirstOrDefault();
        var firing = Find(await Eventually.UntilAsync(alertmanager.ActiveAlertsAsync, a => Find(a) is not null))!.Value;
        var labels = firing.GetProperty("labels");
        Assert.Equal(("kyros_model_error_rate", "critical", "error_rate"),
            (labels.GetProperty("alertname").GetString(), labels.GetProperty("severity").GetString(), labels.GetProperty("metric").GetString()));
        Assert.Equal("active", firing.GetProperty("status").GetProperty("state").GetString());
        Assert.Equal(raised.Message, firing.GetProperty("annotations").GetProperty("summary").GetString());

        // Re-sent while firing: each post moves its end on, so Alertmanager does not resolve it by itself.
        var endsAt = firing.GetProperty("endsAt").GetDateTimeOffset();
        await Eventually.UntilAsync(alertmanager.ActiveAlertsAsync, a => Find(a) is { } again && again.GetProperty("endsAt").GetDateTimeOffset() > endsAt);

        await log.AppendAsync([raised with { Kind = AlertEventKind.Resolved, Level = AlertLevel.None, PreviousLevel = AlertLevel.Critical, Timestamp = DateTimeOffset.UtcNow, Value = 2 }]);
        await Eventually.UntilAsync(alertmanager.ActiveAlertsAsync, a => Find(a) is null);
        // The outbox counts a send once Alertmanager's answer is back, a moment after Alertmanager shows it.
        var status = (await Eventually.UntilAsync(() => cluster.Client.GetNotificationTargetsAsync(), t => t.Single().Sent == 2)).Single();
        Assert.Equal(("alertmanager-0", "alertmanager", 0, 0L), (status.Name, status.Kind, status.Queued, status.Failed));
    }
}
