namespace Kyros.Perf.Routing;

/// <summary>What a request needs. Requirements are 0-1; times in seconds; cost in the catalog's currency.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RequestFeatures")]
public sealed record RequestFeatures
{
    /// <summary>Input tokens; counted from <see cref="Prompt"/> when not given.</summary>
    [Id(0)] public long? EstimatedTokens { get; init; }
    [Id(1)] public string? Prompt { get; init; }
    [Id(2)] public double CreativityRequirement { get; init; }
    [Id(3)] public double ReasoningRequirement { get; init; }
    [Id(4)] public bool RequiresCode { get; init; }
    [Id(5)] public bool RequiresVision { get; init; }
    [Id(6)] public bool RequiresTools { get; init; }
    /// <summary>A candidate whose expected p95 latency is longer is filtered out.</summary>
    [Id(7)] public double? MaxLatency { get; init; }
    /// <summary>A candidate whose expected cost for this request is higher is filtered out.</summary>
    [Id(8)] public double? MaxCost { get; init; }
    /// <summary>The output budget in tokens (what the context window must also hold).</summary>
    [Id(9)] public long OutputTokens { get; init; } = DefaultOutputTokens;

    public const long DefaultOutputTokens = 256;
    /// <summary>Streaming requests are judged on time to first token rather than total latency.</summary>
    [Id(10)] public bool Stream { get; init; }
    /// <summary>The request has a <c>json_schema</c> response format: only models with <c>structured_output</c> take it.</summary>
    [Id(11)] public bool RequiresStructuredOutput { get; init; }
    /// <summary>The kind of model the request is for (<c>chat</c> or <c>embedding</c>); a model of the other kind is never a candidate.</summary>
    [Id(12)] public string Kind { get; init; } = Catalog.ModelKinds.Chat;
    /// <summary>What the request carries that not every provider takes (input audio, logprobs, metadata): a model whose provider lacks one is not a candidate.</summary>
    [Id(13)] public Gateway.ProviderNeeds ProviderNeeds { get; init; }
}

[GenerateSerializer, Immutable, Alias("kyros.RoutingRequest")]
public sealed record RoutingRequest(
    [property: Id(0)] RequestFeatures Features,
    [property: Id(1)] IReadOnlyList<string>? Candidates = null,
    [property: Id(2)] RoutingStrategy Strategy = RoutingStrategy.Balanced)
{
    /// <summary>How much of the score table and the fallback order the decision carries (the rejections are always whole).</summary>
    [Id(3)] public RoutingDetail Detail { get; init; } = RoutingDetail.Full;
}

[GenerateSerializer]
public enum RoutingDetail
{
    /// <summary>Every candidate's score and figures.</summary>
    Full,

    /// <summary>
    /// The chosen candidate's and the runner-up's rows, and the next <see cref="RoutingDecision.SummaryFallbacks"/> models
    /// to try: for callers that route on every request and only log the why.
    /// </summary>
    Summary,
}

/// <summary>
/// A figure the router used and what it rests on: live samples, the catalog's prior, or both. A value type, like the
/// other small parts of a decision, so a decision serializes as few objects.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.Evidence")]
public readonly record struct Evidence(
    [property: Id(0)] double Value,
    [property: Id(1)] long Samples,
    [property: Id(2)] double? AgeSeconds,
    [property: Id(3)] EvidenceSource Source);

[GenerateSerializer]
public enum EvidenceSource
{
    /// <summary>The catalog's prior alone: no live samples.</summary>
    Prior,

    /// <summary>Live samples and the prior, weighed by sample count.</summary>
    Blended,

    /// <summary>So many live samples (ten times the prior's strength) that the prior hardly counts.</summary>
    Live,

    /// <summary>The catalog's prices for this request's tokens.</summary>
    Catalog,
}

[GenerateSerializer]
public enum ModelHealth
{
    Healthy,
    CoolingDown,
    Probing,
}

/// <summary>One candidate's score (0-1) and its parts, each already weighted by the strategy.</summary>
[GenerateSerializer, Immutable, Alias("kyros.CandidateScore")]
public sealed record CandidateScore(
    [property: Id(0)] string Model,
    [property: Id(1)] double Score,
    [property: Id(2)] double LatencyPart,
    [property: Id(3)] double QualityPart,
    [property: Id(4)] double CostPart,
    [property: Id(5)] Evidence Latency,
    [property: Id(6)] Evidence Quality,
    [property: Id(7)] Evidence Cost,
    [property: Id(8)] Evidence ErrorRate,
    [property: Id(9)] double CapabilityFit,
    [property: Id(10)] ModelHealth Health,
    /// <summary>The lowest alert level among the hosts that serve the model (none when it names no hosts); adaptive discounts for it.</summary>
    [property: Id(11)] Resources.AlertLevel HostAlert = Resources.AlertLevel.None);

[GenerateSerializer, Immutable, Alias("kyros.RejectedCandidate")]
public sealed record RejectedCandidate([property: Id(0)] string Model, [property: Id(1)] string Reason);

/// <summary>
/// The router's answer. <see cref="ConfidenceScore"/> (0-1) is half evidence (how far the chosen model's figures rest on
/// live samples rather than priors) and half separation (how clearly it beat the runner-up: a lead of 0.1 counts as clear).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.RoutingDecision")]
public sealed record RoutingDecision(
    [property: Id(0)] string DecisionId,
    [property: Id(1)] string SelectedModel,
    [property: Id(2)] RoutingStrategy Strategy,
    [property: Id(3)] double ConfidenceScore,
    [property: Id(4)] string Reasoning,
    [property: Id(5)] RoutingWeights Weights,
    [property: Id(6)] IReadOnlyList<CandidateScore> Candidates,
    [property: Id(7)] IReadOnlyList<RejectedCandidate> Rejected,
    [property: Id(8)] IReadOnlyList<string> FallbackOrder,
    [property: Id(9)] long EstimatedTokens,
    [property: Id(10)] double SnapshotAgeSeconds,
    [property: Id(11)] double ComputeMicroseconds)
{
    /// <summary>How many fallbacks a summary carries: a caller that routes every request tries a few before routing again.</summary>
    public const int SummaryFallbacks = 3;
}

/// <summary>
/// What a silo holds of one model's budget (the lease it has not spent yet), what it spent since its last answered ask
/// (<see cref="Used"/>), and how much more it wants.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.RateLeaseAsk")]
public sealed record RateLeaseAsk(
    [property: Id(0)] string Model,
    [property: Id(1)] long HeldRequests,
    [property: Id(2)] long HeldTokens,
    [property: Id(3)] long WantedRequests,
    [property: Id(4)] long WantedTokens,
    [property: Id(5)] RateUse[] Used);

/// <summary>
/// Requests and tokens admitted in one second (Unix seconds, UTC). Tokens may be negative: a settlement that gave back
/// part of what a request reserved in that second.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.RateUse")]
public sealed record RateUse([property: Id(0)] long Second, [property: Id(1)] long Requests, [property: Id(2)] long Tokens);

/// <summary>
/// The answer to a <see cref="RateLeaseAsk"/>: what is added to the silo's lease, what the whole cluster holds after it
/// (admitted in the last minute plus every silo's unspent lease), and how many silos hold any of it.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.RateLeaseGrant")]
public sealed record RateLeaseGrant(
    [property: Id(0)] string Model,
    [property: Id(1)] long Requests,
    [property: Id(2)] long Tokens,
    [property: Id(3)] long ClusterRequests,
    [property: Id(4)] long ClusterTokens,
    [property: Id(5)] int Silos);

/// <summary>One request's outcome in <see cref="IRouterGrain.SelectModelsAsync"/>: its decision, or why it has none.</summary>
[GenerateSerializer, Immutable, Alias("kyros.RoutingOutcome")]
public sealed record RoutingOutcome([property: Id(0)] RoutingDecision? Decision, [property: Id(1)] Exception? Error);

/// <summary>
/// What a model's grain tells the routers about itself: figures over the last 5 minutes, plus the failures since its
/// last success and a running count of successes (which only says whether one happened since an earlier look).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ModelRoutingStats")]
public sealed record ModelRoutingStats(
    [property: Id(0)] string Model,
    [property: Id(1)] long Samples,
    [property: Id(2)] double? LatencyP95,
    [property: Id(3)] double? TtftP95,
    [property: Id(4)] double ErrorRate,
    [property: Id(5)] double? CostPerRequest,
    [property: Id(6)] double? QualityMean,
    [property: Id(7)] long QualitySamples,
    [property: Id(8)] int ConsecutiveFailures,
    [property: Id(9)] long SuccessesApplied,
    [property: Id(10)] DateTimeOffset ComputedAt,
    [property: Id(11)] long TtftSamples);

/// <summary>
/// No candidate passes the filters; each one's reason is given. <see cref="Temporary"/>: every candidate was refused only
/// for its health or its rate limit, so the same request may pass in a while.
/// </summary>
[GenerateSerializer, Alias("kyros.NoCandidateException")]
public sealed class NoCandidateException(string message, IReadOnlyList<RejectedCandidate> rejected, bool temporary) : Exception(message)
{
    [Id(0)] public IReadOnlyList<RejectedCandidate> Rejected { get; } = rejected;
    [Id(1)] public bool Temporary { get; } = temporary;
}
