namespace Kyros.Perf.Resources;

/// <summary>Alert levels, lowest first; <see cref="None"/> is no alert.</summary>
public enum AlertLevel
{
    None = 0,
    /// <summary>A change of state worth knowing: a pattern found, a new GPU seen, or a metric past its info threshold.</summary>
    Info = 1,
    Warning = 2,
    Critical = 3,
    Emergency = 4,
}

public enum AlertEventKind
{
    Raised,
    Escalated,
    DeEscalated,
    Resolved,
    /// <summary>A point-in-time notice (a pattern, a new GPU); it has no resolution.</summary>
    Notice,
}

/// <summary>A metric's thresholds; a value at or above a level's threshold breaches that level. Info is optional.</summary>
[GenerateSerializer, Immutable, Alias("kyros.AlertThresholds")]
public sealed record AlertThresholds(
    [property: Id(0)] double Warning,
    [property: Id(1)] double Critical,
    [property: Id(2)] double Emergency,
    [property: Id(3)] double? Info = null)
{
    public double? For(AlertLevel level) => level switch
    {
        AlertLevel.Info => Info,
        AlertLevel.Warning => Warning,
        AlertLevel.Critical => Critical,
        AlertLevel.Emergency => Emergency,
        _ => null,
    };
}

/// <summary>The thresholds in force for a metric and where they come from: <c>default</c>, <c>cluster</c> or <c>node</c>.</summary>
[GenerateSerializer, Immutable, Alias("kyros.MetricThresholds")]
public sealed record MetricThresholds([property: Id(0)] string Metric, [property: Id(1)] AlertThresholds Levels, [property: Id(2)] string Scope);

/// <summary>What an alert is about: a host (the first kind), a model, or a run-time API key's budget.</summary>
public static class AlertSubjects
{
    public const string Host = "host", Model = "model", Key = "key";
    public static readonly IReadOnlyList<string> All = [Host, Model, Key];
}

/// <summary>One change of an alert's state, or a notice. Every event of one alert shares its <see cref="AlertId"/>.</summary>
[GenerateSerializer, Immutable, Alias("kyros.AlertEvent")]
public sealed record AlertEvent
{
    [Id(0)] public required string AlertId { get; init; }
    /// <summary>The name of what the alert is about (<see cref="Subject"/>): a host's node name, a model id, or a key's name.</summary>
    [Id(1)] public required string Node { get; init; }
    [Id(2)] public required string Series { get; init; }
    [Id(3)] public required string Metric { get; init; }
    [Id(4)] public required AlertEventKind Kind { get; init; }
    [Id(5)] public required AlertLevel Level { get; init; }
    [Id(6)] public AlertLevel PreviousLevel { get; init; }
    [Id(7)] public double Value { get; init; }
    /// <summary>The threshold of <see cref="Level"/> (of the level left, for a resolution); null for notices.</summary>
    [Id(8)] public double? Threshold { get; init; }
    [Id(9)] public required DateTimeOffset Timestamp { get; init; }
    [Id(10)] public required string Message { get; init; }
    /// <summary>One of <see cref="AlertSubjects.All"/>: what <see cref="Node"/> names.</summary>
    [Id(11)] public string Subject { get; init; } = AlertSubjects.Host;
}

/// <summary>An alert that has not resolved: its level now, since when, and the last value that moved it.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ActiveAlert")]
public sealed record ActiveAlert(
    [property: Id(0)] string AlertId,
    [property: Id(1)] string Node,
    [property: Id(2)] string Series,
    [property: Id(3)] AlertLevel Level,
    [property: Id(4)] DateTimeOffset Since,
    [property: Id(5)] DateTimeOffset Updated,
    [property: Id(6)] double Value)
{
    /// <summary>The alert an event leaves behind, given the one open on its series before it: none once resolved; else it keeps when it started.</summary>
    public static ActiveAlert? After(ActiveAlert? open, AlertEvent e) => e.Kind == AlertEventKind.Resolved
        ? null
        : new ActiveAlert(e.AlertId, e.Node, e.Series, e.Level, open?.Since ?? e.Timestamp, e.Timestamp, e.Value);
}

/// <summary>Which alert events to return; every filter is optional.</summary>
[GenerateSerializer, Immutable, Alias("kyros.AlertQuery")]
public sealed record AlertQuery(
    [property: Id(0)] bool ActiveOnly = false,
    [property: Id(1)] AlertLevel? MinimumLevel = null,
    [property: Id(2)] string? Node = null,
    [property: Id(3)] DateTimeOffset? Since = null,
    [property: Id(4)] int Limit = 500)
{
    /// <summary>Whether an event is on the asked node and reaches the asked level, before or after it (a resolution counts at the level it left).</summary>
    public bool Matches(AlertEvent e) =>
        (Node is null || e.Node == Node) && (MinimumLevel is null || (AlertLevel)Math.Max((int)e.Level, (int)e.PreviousLevel) >= MinimumLevel);
}

[GenerateSerializer, Immutable, Alias("kyros.AlertLog")]
public sealed record AlertLogPage([property: Id(0)] IReadOnlyList<ActiveAlert> Active, [property: Id(1)] IReadOnlyList<AlertEvent> Events);

public static class AlertLevels
{
    /// <summary>A level as every surface writes it: info, warning, critical, emergency (none).</summary>
    public static string Name(AlertLevel level) => level switch
    {
        AlertLevel.Info => "info",
        AlertLevel.Warning => "warning",
        AlertLevel.Critical => "critical",
        AlertLevel.Emergency => "emergency",
        _ => "none",
    };

    /// <summary>Parses one of info, warning, critical, emergency (any case); anything else is an error naming the field.</summary>
    public static AlertLevel Parse(string? text, string field = "level") => text?.ToLowerInvariant() switch
    {
        "info" => AlertLevel.Info,
        "warning" => AlertLevel.Warning,
        "critical" => AlertLevel.Critical,
        "emergency" => AlertLevel.Emergency,
        _ => throw new ArgumentException($"{field} '{text}' is not one of info, warning, critical, emergency.", field),
    };
}

/// <summary>Where alert events are published: the stream provider, and the one stream in namespace <c>alerts</c>.</summary>
public static class AlertStreams
{
    public const string Provider = "alerts";
    public const string Namespace = "alerts";
    public const string All = "all";
}
