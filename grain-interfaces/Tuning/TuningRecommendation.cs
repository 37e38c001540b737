using Kyros.Perf.Routing;

namespace Kyros.Perf.Tuning;

public enum TuningStatus
{
    Proposed,
    Applied,
    Kept,
    RolledBack,
    Rejected,
    /// <summary>Proposed and never applied, then replaced by a newer recommendation for the same target (or gone stale).</summary>
    Expired,
}

/// <summary>One figure behind a recommendation: what was measured, over which window, on how many samples.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningEvidence")]
public sealed record TuningEvidence(
    [property: Id(0)] string Name,
    [property: Id(1)] double Value,
    [property: Id(2)] long Samples,
    [property: Id(3)] string Window);

/// <summary>
/// A change the tuner proposes, applies, keeps or rolls back. <see cref="Target"/> names what moves:
/// <c>threshold:cpu@host-7</c>, <c>routing:adaptive</c>, <c>timeout:gpt-4</c>, <c>model:gemini-pro</c>.
/// Scalars are in <see cref="CurrentValue"/>/<see cref="RecommendedValue"/>; the adaptive weights in the weight fields.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningRecommendation")]
public sealed record TuningRecommendation
{
    [Id(0)] public required string Id { get; init; }
    /// <summary><c>threshold</c>, <c>adaptive_weights</c>, <c>timeout</c> or <c>degradation</c>.</summary>
    [Id(1)] public required string Rule { get; init; }
    /// <summary><c>raise_threshold</c>, <c>lower_threshold</c>, <c>raise_model_rule</c>, <c>set_weights</c>, <c>set_timeout</c>, <c>shift_traffic</c> or <c>report</c>.</summary>
    [Id(2)] public required string Action { get; init; }
    [Id(3)] public required string Target { get; init; }
    [Id(4)] public double? CurrentValue { get; init; }
    [Id(5)] public double? RecommendedValue { get; init; }
    [Id(6)] public RoutingWeights? CurrentWeights { get; init; }
    [Id(7)] public RoutingWeights? RecommendedWeights { get; init; }
    [Id(8)] public required double Confidence { get; init; }
    [Id(9)] public required double ExpectedImpact { get; init; }
    [Id(10)] public required string Reasoning { get; init; }
    [Id(11)] public IReadOnlyList<TuningEvidence> Evidence { get; init; } = [];
    [Id(12)] public TuningStatus Status { get; init; } = TuningStatus.Proposed;
    [Id(13)] public required DateTimeOffset CreatedAt { get; init; }
    [Id(14)] public DateTimeOffset? AppliedAt { get; init; }
    /// <summary>When it was kept, rolled back, rejected or expired.</summary>
    [Id(15)] public DateTimeOffset? DecidedAt { get; init; }
    /// <summary>The metric an applied change is judged by, its value before, and whether lower is better.</summary>
    [Id(16)] public string? EvaluationMetric { get; init; }
    [Id(17)] public double? Baseline { get; init; }
    [Id(18)] public bool LowerIsBetter { get; init; } = true;
    /// <summary>The metric's value when the change was judged, and why it was kept or rolled back.</summary>
    [Id(19)] public double? Observed { get; init; }
    [Id(20)] public string? Outcome { get; init; }
    /// <summary><c>tuner</c> when the gates applied it, <c>operator</c> when a person did.</summary>
    [Id(21)] public string? AppliedBy { get; init; }
}

/// <summary>Which recommendations to list; every filter is optional.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningQuery")]
public sealed record TuningQuery(
    [property: Id(0)] TuningStatus? Status = null,
    [property: Id(1)] string? Target = null,
    [property: Id(2)] DateTimeOffset? Since = null,
    [property: Id(3)] int Limit = 200);

/// <summary>What routing and the gateway honour from applied tuning: the adaptive strategy's base weights, traffic penalties, timeouts.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningOverrides")]
public sealed record TuningOverrides(
    [property: Id(0)] long Version,
    [property: Id(1)] RoutingWeights? AdaptiveBase,
    /// <summary>Per model, the share (0-1) its routing score loses.</summary>
    [property: Id(2)] IReadOnlyDictionary<string, double> Penalties,
    [property: Id(3)] IReadOnlyDictionary<string, double> TimeoutSeconds)
{
    public static readonly TuningOverrides None = new(0, null, new Dictionary<string, double>(), new Dictionary<string, double>());
}

[GenerateSerializer, Immutable, Alias("kyros.TuningState")]
public sealed record TuningStatusReport(
    [property: Id(0)] TuningConfiguration Configuration,
    [property: Id(1)] DateTimeOffset? LastCycle,
    [property: Id(2)] DateTimeOffset? NextCycle,
    [property: Id(3)] IReadOnlyList<TuningRecommendation> UnderEvaluation,
    [property: Id(4)] IReadOnlyList<TuningRecommendation> Recent,
    [property: Id(5)] TuningOverrides Overrides,
    [property: Id(6)] string Silo,
    [property: Id(7)] long Cycles);

/// <summary>One cycle: what it read, what it found and what it did.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningCycleResult")]
public sealed record TuningCycleResult(
    [property: Id(0)] DateTimeOffset StartedAt,
    [property: Id(1)] double DurationMs,
    [property: Id(2)] int ModelsRead,
    [property: Id(3)] int HostsRead,
    [property: Id(4)] int GrainCalls,
    [property: Id(5)] IReadOnlyList<TuningRecommendation> Recommendations,
    [property: Id(6)] IReadOnlyList<TuningRecommendation> Evaluated,
    [property: Id(7)] string? Skipped = null);

/// <summary>One entry of the tuner's history: a recommendation as it stood after a change of status.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TuningHistoryEntry")]
public sealed record TuningHistoryEntry(
    [property: Id(0)] DateTimeOffset Timestamp,
    [property: Id(1)] TuningRecommendation Recommendation);

public static class TuningStatuses
{
    private static readonly string[] StatusNames = ["proposed", "applied", "kept", "rolled_back", "rejected", "expired"];
    public static IReadOnlyList<string> Names => StatusNames;

    public static string Name(TuningStatus status) => Names[(int)status];

    public static TuningStatus Parse(string? text, string field = "status")
    {
        var i = text is null ? -1 : Array.IndexOf(StatusNames, text.ToLowerInvariant());
        return i >= 0 ? (TuningStatus)i : throw new ArgumentException($"{field} '{text}' is not one of {string.Join(", ", Names)}.", field);
    }
}
