using Kyros.Perf.Resources;

namespace Kyros.Perf.Alerts;

/// <summary>Which alerts a target wants: a lowest severity, optionally only some subjects, and labels that must match.</summary>
public sealed record NotificationFilter(AlertLevel MinimumLevel, IReadOnlySet<string> Subjects, IReadOnlyDictionary<string, string> Labels)
{
    public static readonly NotificationFilter All = new(AlertLevel.Info, new HashSet<string>(), new Dictionary<string, string>());

    /// <summary>
    /// Judged per notified alert, not per event: an escalation from warning to critical passes a critical-only target as
    /// the critical alert firing, and its de-escalation as the critical one resolved, without the warnings around them.
    /// </summary>
    public bool Passes(NotificationAlert alert) =>
        alert.Level >= MinimumLevel
        && (Subjects.Count == 0 || Subjects.Contains(alert.Subject))
        && Labels.All(l => alert.Labels.TryGetValue(l.Key, out var value) && value == l.Value);
}
