using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Alerts;

/// <summary>One alert as receivers see it (Alertmanager's model): a label set firing or resolved, with its annotations.</summary>
public sealed record NotificationAlert(
    bool Firing,
    AlertLevel Level,
    string Subject,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    string Fingerprint)
{
    public string Status => Firing ? "firing" : "resolved";
}

/// <summary>
/// What a transition looks like to each kind of target: the alerts it fires and resolves, and the bodies of
/// Alertmanager's webhook format, Alertmanager's <c>/api/v2/alerts</c> and a Slack incoming webhook.
/// </summary>
public static partial class AlertPayloads
{
    /// <summary>How long a notice (no resolution of its own) stays firing in a receiver.</summary>
    public static readonly TimeSpan NoticeLifetime = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The alerts of a transition. Severity is a label, so a change of level is a new label set firing and the old one
    /// resolved, as Prometheus would send it; a resolution resolves the level it left.
    /// </summary>
    public static IReadOnlyList<NotificationAlert> Expand(NotificationTransition transition)
    {
        var e = transition.Event;
        var left = e.PreviousLevel == AlertLevel.None ? e.Level : e.PreviousLevel;
        return e.Kind switch
        {
            AlertEventKind.Raised => [Alert(transition, e.Level, firing: true)],
            AlertEventKind.Escalated or AlertEventKind.DeEscalated => [Alert(transition, e.Level, firing: true), Alert(transition, left, firing: false)],
            AlertEventKind.Resolved => [Alert(transition, left, firing: false)],
            _ => [Alert(transition, e.Level, firing: true) with { EndsAt = e.Timestamp + NoticeLifetime }],
        };
    }

    /// <summary>The alerts of a transition that a target's filter passes; none: the target is not notified of it.</summary>
    public static IReadOnlyList<NotificationAlert> For(NotificationTransition transition, NotificationFilter filter) =>
        Expand(transition).Where(filter.Passes).ToArray();

    private static NotificationAlert Alert(NotificationTransition transition, AlertLevel level, bool firing)
    {
        var e = transition.Event;
        var labels = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["alertname"] = $"kyros_{e.Subject}_{LabelSafe(e.Metric)}",
            ["severity"] = AlertLevels.Name(level),
            [e.Subject] = e.Node,
            ["metric"] = e.Metric,
        };
        // A host's series can be finer than its metric (one disk, one GPU): it tells the alerts apart.
        if (e.Series != e.Metric) labels["series"] = e.Series;
        var annotations = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["summary"] = e.Message,
            ["alert_id"] = e.AlertId,
            ["transition"] = Name(e.Kind),
            ["value"] = e.Value.ToString("R", CultureInfo.InvariantCulture),
        };
        if (e.Threshold is { } threshold) annotations["threshold"] = threshold.ToString("R", CultureInfo.InvariantCulture);
        var startsAt = transition.StartedAt <= e.Timestamp ? transition.StartedAt : e.Timestamp;
        return new NotificationAlert(firing, level, e.Subject, labels, annotations, startsAt, firing ? null : e.Timestamp, Fingerprint(labels));
    }

    public static string Name(AlertEventKind kind) => kind switch
    {
        AlertEventKind.Raised => "raised",
        AlertEventKind.Escalated => "escalated",
        AlertEventKind.DeEscalated => "de_escalated",
        AlertEventKind.Resolved => "resolved",
        _ => "notice",
    };

    /// <summary>A label set's identity, as Alertmanager keeps one: the same labels give the same 16 hex digits in every process.</summary>
    public static string Fingerprint(IReadOnlyDictionary<string, string> labels)
    {
        var text = new StringBuilder();
        foreach (var (name, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal)) text.Append(name).Append('\xff').Append(value).Append('\xff');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())).AsSpan(0, 8));
    }

    /// <summary>The key of one post to one target, the same for every re-send of it (the <c>Idempotency-Key</c> header).</summary>
    public static string IdempotencyKey(string target, NotificationTransition transition) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{target}\n{transition.Id}")).AsSpan(0, 16));

    public static bool IsLabelName(string name) => LabelName().IsMatch(name);

    private static string LabelSafe(string text) => NotLabelChars().Replace(text.ToLowerInvariant(), "_");

    /// <summary>
    /// Alertmanager's webhook body (<c>version</c> 4): one group per transition, firing while any of its alerts fires.
    /// <c>idempotencyKey</c> and each alert's <c>transition</c> annotation let a receiver recognise a re-send.
    /// </summary>
    public static string Webhook(string receiver, string idempotencyKey, IReadOnlyList<NotificationAlert> alerts, string? externalUrl)
    {
        var groupLabels = new SortedDictionary<string, string>(StringComparer.Ordinal) { ["alertname"] = alerts[0].Labels["alertname"] };
        var body = new JsonObject
        {
            ["version"] = "4",
            ["groupKey"] = "{}:{" + string.Join(",", groupLabels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "}",
            ["truncatedAlerts"] = 0,
            ["status"] = alerts.Any(a => a.Firing) ? "firing" : "resolved",
            ["receiver"] = receiver,
            ["groupLabels"] = Object(groupLabels),
            ["commonLabels"] = Object(Common(alerts.Select(a => a.Labels))),
            ["commonAnnotations"] = Object(Common(alerts.Select(a => a.Annotations))),
            ["externalURL"] = externalUrl ?? "",
            ["alerts"] = new JsonArray([.. alerts.Select(a => (JsonNode)new JsonObject
            {
                ["status"] = a.Status,
                ["labels"] = Object(a.Labels),
                ["annotations"] = Object(a.Annotations),
                ["startsAt"] = Time(a.StartsAt),
                // Alertmanager writes a firing alert's end as Go's zero time.
                ["endsAt"] = a.EndsAt is { } ends ? Time(ends) : "0001-01-01T00:00:00Z",
                ["generatorURL"] = GeneratorUrl(externalUrl) ?? "",
                ["fingerprint"] = a.Fingerprint,
            })]),
            ["idempotencyKey"] = idempotencyKey,
        };
        return body.ToJsonString();
    }

    /// <summary>
    /// Alertmanager's <c>POST /api/v2/alerts</c> body. A firing alert ends <paramref name="firingFor"/> after
    /// <paramref name="now"/> unless posted again (Alertmanager resolves it by itself if this cluster goes quiet); a
    /// resolved one ends when it resolved.
    /// </summary>
    public static string AlertmanagerAlerts(IEnumerable<NotificationAlert> alerts, DateTimeOffset now, TimeSpan firingFor, string? externalUrl) =>
        new JsonArray([.. alerts.Select(a =>
        {
            var alert = new JsonObject
            {
                ["labels"] = Object(a.Labels),
                ["annotations"] = Object(a.Annotations),
                ["startsAt"] = Time(a.StartsAt),
                ["endsAt"] = Time(a.EndsAt ?? now + firingFor),
            };
            // Alertmanager checks generatorURL is a URL: it is left out when the product's address is not configured.
            if (GeneratorUrl(externalUrl) is { } url) alert["generatorURL"] = url;
            return (JsonNode)alert;
        })]).ToJsonString();

    /// <summary>A Slack incoming webhook's body: one line per alert naming its status, level, subject and value.</summary>
    public static string Slack(IReadOnlyList<NotificationAlert> alerts) => new JsonObject
    {
        ["text"] = string.Join("\n", alerts.Select(a =>
            $"[{a.Status.ToUpperInvariant()}] {a.Labels["severity"]} {a.Subject} {a.Labels[a.Subject]} {a.Labels["metric"]} = {a.Annotations["value"]}: {a.Annotations["summary"]}")),
    }.ToJsonString();

    private static string? GeneratorUrl(string? externalUrl) => externalUrl is null ? null : externalUrl.TrimEnd('/') + "/ui/alerts";

    private static JsonObject Object(IEnumerable<KeyValuePair<string, string>> pairs) =>
        new(pairs.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)JsonValue.Create(p.Value))));

    /// <summary>The pairs every one of the maps holds alike (Alertmanager's commonLabels, commonAnnotations).</summary>
    private static SortedDictionary<string, string> Common(IEnumerable<IReadOnlyDictionary<string, string>> maps)
    {
        SortedDictionary<string, string>? common = null;
        foreach (var map in maps)
        {
            if (common is null)
            {
                common = new SortedDictionary<string, string>(map.ToDictionary(), StringComparer.Ordinal);
                continue;
            }
            foreach (var key in common.Keys.ToArray())
                if (!map.TryGetValue(key, out var value) || value != common[key]) common.Remove(key);
        }
        return common ?? new SortedDictionary<string, string>(StringComparer.Ordinal);
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    [GeneratedRegex("[^a-z0-9_]")]
    private static partial Regex NotLabelChars();
}
