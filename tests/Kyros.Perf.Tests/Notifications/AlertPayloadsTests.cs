using System.Text.Json;
using Kyros.Perf.Alerts;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Tests.Notifications;

/// <summary>What each kind of target receives for a transition, and which alerts a target's filter lets through.</summary>
public sealed class AlertPayloadsTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static NotificationTransition Transition(AlertEventKind kind, AlertLevel level, AlertLevel previous, string subject = AlertSubjects.Model,
        string node = "gpt-4", string series = "error_rate") => new(new AlertEvent
        {
            AlertId = $"{subject}:{node}:{series}:1", Node = node, Series = series, Metric = series.Split(':')[0], Kind = kind, Level = level,
            PreviousLevel = previous, Value = 31, Threshold = 25, Timestamp = Noon, Message = $"{node}: {series} is at 31.", Subject = subject,
        }, Noon.AddMinutes(-3));

    [Fact]
    public void An_escalation_fires_the_new_severity_and_resolves_the_old_in_alertmanagers_webhook_format()
    {
        var transition = Transition(AlertEventKind.Escalated, AlertLevel.Critical, AlertLevel.Warning);
        var alerts = AlertPayloads.For(transition, NotificationFilter.All);
        var body = JsonDocument.Parse(AlertPayloads.Webhook("ops", "key-1", alerts, "https://kyros.example.com")).RootElement;

        Assert.Equal(("4", "firing", "ops", "key-1"), (body.GetProperty("version").GetString(), body.GetProperty("status").GetString(),
            body.GetProperty("receiver").GetString(), body.GetProperty("idempotencyKey").GetString()));
        Assert.Equal("{}:{alertname=\"kyros_model_error_rate\"}", body.GetProperty("groupKey").GetString());
        var common = body.GetProperty("commonLabels");
        Assert.Equal(("kyros_model_error_rate", "gpt-4", "error_rate"), (common.GetProperty("alertname").GetString(), common.GetProperty("model").GetString(),
            common.GetProperty("metric").GetString()));
        Assert.False(common.TryGetProperty("severity", out _)); // the two alerts differ in it

        var sent = body.GetProperty("alerts").EnumerateArray().ToArray();
        Assert.Equal([("firing", "critical"), ("resolved", "warning")],
            sent.Select(a => (a.GetProperty("status").GetString(), a.GetProperty("labels").GetProperty("severity").GetString())).ToArray());
        Assert.Equal("0001-01-01T00:00:00Z", sent[0].GetProperty("endsAt").GetString());
        Assert.Equal("2026-12-07T12:00:00.000Z", sent[1].GetProperty("endsAt").GetString());
        Assert.Equal("2026-12-07T11:57:00.000Z", sent[0].GetProperty("startsAt").GetString());
        Assert.Equal("gpt-4: error_rate is at 31.", sent[0].GetProperty("annotations").GetProperty("summary").GetString());
        Assert.Equal("escalated", sent[0].GetProperty("annotations").GetProperty("transition").GetString());
        Assert.Equal("https://kyros.example.com/ui/alerts", sent[0].GetProperty("generatorURL").GetString());
        // A label set's fingerprint is its identity: the same labels, the same fingerprint; another severity, another one.
        var again = AlertPayloads.For(Transition(AlertEventKind.Resolved, AlertLevel.None, AlertLevel.Critical), NotificationFilter.All);
        Assert.Equal(sent[0].GetProperty("fingerprint").GetString(), again[0].Fingerprint);
        Assert.NotEqual(sent[0].GetProperty("fingerprint").GetString(), sent[1].GetProperty("fingerprint").GetString());
        Assert.Matches("^[0-9a-f]{16}$", again[0].Fingerprint);
    }

    [Fact]
    public void Alertmanagers_api_gets_labels_and_an_end_four_resends_away_while_firing_and_the_resolution_time_once_resolved()
    {
        var raised = AlertPayloads.For(Transition(AlertEventKind.Raised, AlertLevel.Critical, AlertLevel.None, AlertSubjects.Host, "gpu-7", "gpu_temp:0"), NotificationFilter.All);
        var firing = JsonDocument.Parse(AlertPayloads.AlertmanagerAlerts(raised, Noon, TimeSpan.FromMinutes(4), null)).RootElement.EnumerateArray().Single();
        var labels = firing.GetProperty("labels");
        Assert.Equal(("kyros_host_gpu_temp", "gpu-7", "gpu_temp", "gpu_temp:0", "critical"), (labels.GetProperty("alertname").GetString(),
            labels.GetProperty("host").GetString(), labels.GetProperty("metric").GetString(), labels.GetProperty("series").GetString(), labels.GetProperty("severity").GetString()));
        Assert.Equal("2026-12-07T12:04:00.000Z", firing.GetProperty("endsAt").GetString());
        Assert.False(firing.TryGetProperty("generatorURL", out _)); // Alertmanager refuses one that is not a URL

        var resolved = AlertPayloads.For(Transition(AlertEventKind.Resolved, AlertLevel.None, AlertLevel.Critical, AlertSubjects.Host, "gpu-7", "gpu_temp:0"), NotificationFilter.All);
        var end = JsonDocument.Parse(AlertPayloads.AlertmanagerAlerts(resolved, Noon.AddHours(1), TimeSpan.FromMinutes(4), null)).RootElement.EnumerateArray().Single();
        Assert.Equal(("2026-12-07T12:00:00.000Z", "critical"), (end.GetProperty("endsAt").GetString(), end.GetProperty("labels").GetProperty("severity").GetString()));
        Assert.Equal(resolved[0].Fingerprint, raised[0].Fingerprint);
    }

    [Fact]
    public void Slack_gets_one_line_per_alert_naming_status_level_subject_and_value()
    {
        var alerts = AlertPayloads.For(Transition(AlertEventKind.DeEscalated, AlertLevel.Warning, AlertLevel.Critical, AlertSubjects.Key, "team-a", "budget_spend"),
            NotificationFilter.All);
        var text = JsonDocument.Parse(AlertPayloads.Slack(alerts)).RootElement.GetProperty("text").GetString();
        Assert.Equal("[FIRING] warning key team-a budget_spend = 31: team-a: budget_spend is at 31.\n" +
                     "[RESOLVED] critical key team-a budget_spend = 31: team-a: budget_spend is at 31.", text);
    }

    [Fact]
    public void A_target_filters_each_alert_by_severity_subject_and_labels()
    {
        var criticalModels = new NotificationFilter(AlertLevel.Critical, new HashSet<string> { AlertSubjects.Model }, new Dictionary<string, string>());
        // Warning raised, then critical, then back to warning, then resolved: a critical-only target hears the critical alert fire and resolve.
        var heard = new[]
            {
                Transition(AlertEventKind.Raised, AlertLevel.Warning, AlertLevel.None), Transition(AlertEventKind.Escalated, AlertLevel.Critical, AlertLevel.Warning),
                Transition(AlertEventKind.DeEscalated, AlertLevel.Warning, AlertLevel.Critical), Transition(AlertEventKind.Resolved, AlertLevel.None, AlertLevel.Warning),
            }
            .Select(t => AlertPayloads.For(t, criticalModels).Select(a => $"{a.Status} {a.Labels["severity"]}").ToArray()).ToArray();
        Assert.Equal([[], ["firing critical"], ["resolved critical"], []], heard);

        Assert.Empty(AlertPayloads.For(Transition(AlertEventKind.Raised, AlertLevel.Emergency, AlertLevel.None, AlertSubjects.Host, "h1", "cpu"), criticalModels));
        var onlyGpt4 = new NotificationFilter(AlertLevel.Info, new HashSet<string>(), new Dictionary<string, string> { ["model"] = "gpt-4" });
        Assert.Single(AlertPayloads.For(Transition(AlertEventKind.Raised, AlertLevel.Warning, AlertLevel.None), onlyGpt4));
        Assert.Empty(AlertPayloads.For(Transition(AlertEventKind.Raised, AlertLevel.Warning, AlertLevel.None, node: "claude"), onlyGpt4));
        Assert.Empty(AlertPayloads.For(Transition(AlertEventKind.Raised, AlertLevel.Warning, AlertLevel.None, AlertSubjects.Host, "gpt-4", "cpu"), onlyGpt4));
    }

    [Fact]
    public void The_backoff_doubles_from_the_base_up_to_its_cap()
    {
        var waits = Enumerable.Range(1, 9).Select(n => NotificationBackoff.After(n, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)).TotalSeconds).ToArray();
        Assert.Equal([1, 2, 4, 8, 16, 32, 60, 60, 60], waits);
        Assert.Equal(TimeSpan.FromSeconds(60), NotificationBackoff.After(10_000, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void Bad_notification_settings_are_refused_naming_the_key_and_never_quoting_a_url()
    {
        var options = new NotificationOptions
        {
            Webhooks = [new() { Name = "ops", Url = "ftp://hooks.example.com/secret-token" }, new() { Name = "ops", Url = "https://a.example.com", MinimumLevel = "loud" }],
            Slack = [new() { Url = "https://hooks.slack.com/services/T0/B0/XYZ", Subjects = ["gpu"], Labels = new() { ["bad-label"] = "x" } }],
            RetryBaseDelay = TimeSpan.FromSeconds(5), MaxRetryDelay = TimeSpan.FromSeconds(1),
        };
        var failures = new NotificationOptionsValidator().Validate(null, options).Failures!.ToArray();
        Assert.Equal([
            "Kyros:Notifications:Webhooks:0:Url must be an absolute http or https URL.",
            "Kyros:Notifications:Webhooks:1:Name 'ops' is used by another notification target.",
            "Kyros:Notifications:Webhooks:1:MinimumLevel must be one of info, warning, critical, emergency.",
            "Kyros:Notifications:Slack:0:Name is required.",
            "Kyros:Notifications:Slack:0:Subjects 'gpu' is not one of host, model, key.",
            "Kyros:Notifications:Slack:0:Labels 'bad-label' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*).",
            "Kyros:Notifications:MaxRetryDelay must be within RetryBaseDelay..01:00:00.",
        ], failures);
        Assert.DoesNotContain(failures, f => f.Contains("secret-token") || f.Contains("XYZ"));

        var good = new NotificationOptions { Alertmanager = [new() { Url = "http://127.0.0.1:9093" }] };
        Assert.Equal(ValidateOptionsResult.Success, new NotificationOptionsValidator().Validate(null, good));
        Assert.Equal(("alertmanager-0", "http://127.0.0.1:9093/api/v2/alerts"), (good.Targets()[0].Name, good.Targets()[0].PostUrl.AbsoluteUri));
    }
}
