using System.Text.RegularExpressions;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Alerts;

/// <summary>
/// Where alert transitions are notified (configuration section <c>Kyros:Notifications</c>). Target URLs are operator
/// configuration and may carry secrets (a Slack URL holds its token): they come from configuration or the environment
/// (<c>Kyros__Notifications__Slack__0__Url</c>) and are never logged nor returned; targets are named by <c>Name</c>.
/// </summary>
public sealed class NotificationOptions
{
    public const string Section = "Kyros:Notifications";

    /// <summary>Receivers of Alertmanager's webhook format (<c>version</c> 4).</summary>
    public List<NotificationTargetOptions> Webhooks { get; set; } = [];

    /// <summary>Alertmanagers by base URL: alerts are posted to <c>/api/v2/alerts</c> and re-sent while firing.</summary>
    public List<NotificationTargetOptions> Alertmanager { get; set; } = [];

    /// <summary>Slack incoming webhooks (<c>{"text": ...}</c>).</summary>
    public List<NotificationTargetOptions> Slack { get; set; } = [];

    /// <summary>One post's limit; a post that takes longer counts as failed and is tried again.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after a target's first failure; it doubles with each failure in a row, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Entries one target's outbox keeps; beyond it the oldest is dropped (counted, and a warning logged).</summary>
    public int MaxQueuedPerTarget { get; set; } = 10_000;

    /// <summary>
    /// How often firing alerts are posted to an Alertmanager again. Each post says the alert ends 4 intervals later
    /// (as Prometheus does), so Alertmanager resolves it by itself should this cluster stop re-sending.
    /// </summary>
    public TimeSpan AlertmanagerResendInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often an outbox looks for work (a send waits at most this long after its entry was stored).</summary>
    public TimeSpan PumpInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>How often each silo wakes every target's outbox, so one whose silo died resumes elsewhere.</summary>
    public TimeSpan WakeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>This product's address as its users reach it (https://kyros.example.com): links back from receivers (<c>generatorURL</c>, <c>externalURL</c>).</summary>
    public string? ExternalUrl { get; set; }

    /// <summary>Every target, with its kind; Alertmanagers without a name are <c>alertmanager-0</c>, <c>alertmanager-1</c>, …</summary>
    public IReadOnlyList<NotificationTarget> Targets() =>
    [
        .. Webhooks.Select((t, i) => NotificationTarget.From(t, NotificationKinds.Webhook, i)),
        .. Alertmanager.Select((t, i) => NotificationTarget.From(t, NotificationKinds.Alertmanager, i)),
        .. Slack.Select((t, i) => NotificationTarget.From(t, NotificationKinds.Slack, i)),
    ];

    public NotificationTarget? Target(string name) => Targets().FirstOrDefault(t => t.Name == name);
}

/// <summary>One target as configured: its name, its URL, and which alerts it wants.</summary>
public sealed class NotificationTargetOptions
{
    public string? Name { get; set; }
    public string? Url { get; set; }
    /// <summary>The lowest severity notified: info, warning (the default), critical or emergency.</summary>
    public string MinimumLevel { get; set; } = "warning";
    /// <summary>Only alerts about these subjects (host, model, key); empty: all.</summary>
    public List<string> Subjects { get; set; } = [];
    /// <summary>Only alerts whose labels have these values (<c>severity: critical</c>, <c>model: gpt-4</c>).</summary>
    public Dictionary<string, string> Labels { get; set; } = [];
}

/// <summary>A validated target: what the outbox and the sender use.</summary>
public sealed record NotificationTarget(string Name, string Kind, Uri Url, NotificationFilter Filter)
{
    public static NotificationTarget From(NotificationTargetOptions options, string kind, int index) => new(
        options.Name ?? $"{kind}-{index}", kind, new Uri(options.Url!),
        new NotificationFilter(AlertLevels.Parse(options.MinimumLevel), options.Subjects.ToHashSet(), options.Labels));

    /// <summary>Where posts go: the URL itself, or an Alertmanager's alerts endpoint under its base URL.</summary>
    public Uri PostUrl => Kind == NotificationKinds.Alertmanager ? new Uri(Url.AbsoluteUri.TrimEnd('/') + "/api/v2/alerts") : Url;
}

public sealed partial class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        var errors = new List<string>();
        var names = new HashSet<string>();
        foreach (var (list, key, kind) in new[]
                 {
                     (options.Webhooks, "Webhooks", NotificationKinds.Webhook), (options.Alertmanager, "Alertmanager", NotificationKinds.Alertmanager),
                     (options.Slack, "Slack", NotificationKinds.Slack),
                 })
            for (var i = 0; i < list.Count; i++)
            {
                var target = list[i];
                var at = $"{NotificationOptions.Section}:{key}:{i}";
                var targetName = target.Name ?? (kind == NotificationKinds.Alertmanager ? $"{kind}-{i}" : null);
                if (targetName is null) errors.Add($"{at}:Name is required.");
                else if (!TargetName().IsMatch(targetName)) errors.Add($"{at}:Name must be 1-64 letters, digits, '.', '_' or '-'.");
                else if (!names.Add(targetName)) errors.Add($"{at}:Name '{targetName}' is used by another notification target.");
                // The URL is never quoted: it may carry a token.
                if (!Uri.TryCreate(target.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                    errors.Add($"{at}:Url must be an absolute http or https URL.");
                if (target.MinimumLevel?.ToLowerInvariant() is not ("info" or "warning" or "critical" or "emergency"))
                    errors.Add($"{at}:MinimumLevel must be one of info, warning, critical, emergency.");
                foreach (var subject in target.Subjects.Where(s => !AlertSubjects.All.Contains(s)))
                    errors.Add($"{at}:Subjects '{subject}' is not one of {string.Join(", ", AlertSubjects.All)}.");
                foreach (var label in target.Labels.Keys.Where(l => !AlertPayloads.IsLabelName(l)))
                    errors.Add($"{at}:Labels '{label}' is not a label name ([a-zA-Z_][a-zA-Z0-9_]*).");
            }
        if (options.RequestTimeout < TimeSpan.FromMilliseconds(100) || options.RequestTimeout > TimeSpan.FromMinutes(1))
            errors.Add($"{NotificationOptions.Section}:RequestTimeout must be within 00:00:00.100..00:01:00.");
        if (options.RetryBaseDelay < TimeSpan.FromMilliseconds(10) || options.RetryBaseDelay > TimeSpan.FromMinutes(1))
            errors.Add($"{NotificationOptions.Section}:RetryBaseDelay must be within 00:00:00.010..00:01:00.");
        if (options.MaxRetryDelay < options.RetryBaseDelay || options.MaxRetryDelay > TimeSpan.FromHours(1))
            errors.Add($"{NotificationOptions.Section}:MaxRetryDelay must be within RetryBaseDelay..01:00:00.");
        if (options.MaxQueuedPerTarget is < 1 or > 1_000_000)
            errors.Add($"{NotificationOptions.Section}:MaxQueuedPerTarget must be within 1..1000000.");
        if (options.AlertmanagerResendInterval < TimeSpan.FromMilliseconds(100) || options.AlertmanagerResendInterval > TimeSpan.FromHours(1))
            errors.Add($"{NotificationOptions.Section}:AlertmanagerResendInterval must be within 00:00:00.100..01:00:00.");
        if (options.PumpInterval < TimeSpan.FromMilliseconds(10) || options.PumpInterval > TimeSpan.FromSeconds(10))
            errors.Add($"{NotificationOptions.Section}:PumpInterval must be within 00:00:00.010..00:00:10.");
        if (options.WakeInterval < TimeSpan.FromMilliseconds(100) || options.WakeInterval > TimeSpan.FromMinutes(10))
            errors.Add($"{NotificationOptions.Section}:WakeInterval must be within 00:00:00.100..00:10:00.");
        if (options.ExternalUrl is { } external && (!Uri.TryCreate(external, UriKind.Absolute, out var externalUrl) || externalUrl.Scheme is not ("http" or "https")))
            errors.Add($"{NotificationOptions.Section}:ExternalUrl must be an absolute http or https URL.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex TargetName();
}
