using Kyros.Perf.Catalog;

namespace Kyros.Perf.Routing;

/// <summary>
/// One candidate's expected figures for a request, before normalisation across candidates. A value type: a decision over many candidates allocates none.
/// <paramref name="Penalty"/> is the share of its score a model loses to a tuning penalty (0: none), under every strategy.</summary>
public readonly record struct CandidateFigures(ModelDescriptor Model, Evidence Latency, Evidence Quality, Evidence Cost, Evidence ErrorRate, double CapabilityFit, ModelHealth Health,
    Resources.AlertLevel HostAlert = Resources.AlertLevel.None, double Penalty = 0);

/// <summary>A candidate's score and its parts; <see cref="Candidate"/> indexes the figures that were ranked. A score row is made only for the rows a decision shows.</summary>
public readonly record struct RankedCandidate(int Candidate, double Score, double LatencyPart, double QualityPart, double CostPart)
{
    public CandidateScore ToScore(in CandidateFigures f) => new(f.Model.Id, Score, LatencyPart, QualityPart, CostPart, f.Latency, f.Quality, f.Cost,
        f.ErrorRate, f.CapabilityFit, f.Health, f.HostAlert);
}

/// <summary>
/// The router's arithmetic. Live figures are blended with the catalog's priors by sample count (shrinkage);
/// latency and cost are normalised against the candidates' median, so one outlier moves only its own score.
/// </summary>
public static class ModelScorer
{
    /// <summary>Catalog priors are medians; the p95 the router compares is taken as 1.5x the median, TTFT p95 as 0.4x.</summary>
    public const double LatencyP95PerMedian = 1.5;
    public const double TtftP95PerMedian = 0.4;
    public const double ErrorRatePrior = 0.01;
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(15);
    private const double ClearLead = 0.1;

    /// <param name="adaptiveBase">The adaptive strategy's base weights as tuned (null: the balanced strategy's); the fixed strategies never move.</param>
    public static RoutingWeights WeightsFor(RoutingStrategy strategy, RequestFeatures features, long estimatedTokens, RoutingWeights? adaptiveBase = null)
    {
        if (strategy != RoutingStrategy.Adaptive) return RoutingWeights.For(strategy);
        // Demanding prompts raise quality, long ones raise cost, a latency bound or streaming raises latency.
        var weights = adaptiveBase ?? RoutingWeights.For(RoutingStrategy.Balanced);
        var quality = weights.Quality + 0.5 * Math.Max(features.ReasoningRequirement, features.CreativityRequirement);
        var cost = weights.Cost + 0.4 * Math.Min(1, (estimatedTokens + features.OutputTokens) / 20_000.0);
        var latency = weights.Latency + (features.MaxLatency is null ? 0 : 0.3) + (features.Stream ? 0.15 : 0);
        return new RoutingWeights(latency, quality, cost).Normalized();
    }

    /// <summary>A candidate's figures as a healthy model; the router marks its health afterwards.</summary>
    public static CandidateFigures Figures(ModelDescriptor model, ModelRoutingStats? stats, RequestFeatures features,
        long estimatedTokens, double priorStrength, DateTimeOffset now)
    {
        // Figures published longer ago than their 5-minute window plus slack describe nothing current: priors only.
        if (stats is not null && now - stats.ComputedAt > StaleAfter) stats = null;
        var age = stats is null ? (double?)null : Math.Max(0, (now - stats.ComputedAt).TotalSeconds);
        var samples = stats?.Samples ?? 0;
        var live = features.Stream ? stats?.TtftP95 : stats?.LatencyP95;
        var liveSamples = features.Stream ? stats?.TtftSamples ?? 0 : samples;
        var prior = model.LatencyPrior * (features.Stream ? TtftP95PerMedian : LatencyP95PerMedian);
        var latency = Blend(live, live is null ? 0 : liveSamples, prior, priorStrength, age);
        var quality = Blend(stats?.QualityMean, stats?.QualitySamples ?? 0, model.QualityPrior, priorStrength, age);
        var errors = Blend(stats?.ErrorRate, samples, ErrorRatePrior, priorStrength, age);

        var priced = model.PriceOf(estimatedTokens, features.OutputTokens);
        var cost = model.InputPricePer1k == 0 && model.OutputPricePer1k == 0 && stats?.CostPerRequest is > 0
            ? new Evidence(stats.CostPerRequest.Value, samples, age, EvidenceSource.Live)
            : new Evidence(priced, 0, null, EvidenceSource.Catalog);

        var shortfall = Math.Max(0, features.CreativityRequirement - model.Capabilities.Creativity)
                        + Math.Max(0, features.ReasoningRequirement - model.Capabilities.Reasoning);
        return new CandidateFigures(model, latency, quality, cost, errors, 1 - shortfall / 2, ModelHealth.Healthy);
    }

    /// <summary>The hard filters that need expected figures: a latency or cost bound.</summary>
    public static string? Exceeds(in CandidateFigures figures, RequestFeatures features)
    {
        if (features.MaxLatency is { } maxLatency && figures.Latency.Value > maxLatency)
            return $"expected p95 {(features.Stream ? "time to first token" : "latency")} {figures.Latency.Value:0.###} s exceeds max_latency {maxLatency} s";
        if (features.MaxCost is { } maxCost && figures.Cost.Value > maxCost)
            return $"expected cost {figures.Cost.Value:0.######} exceeds max_cost {maxCost}";
        return null;
    }

    /// <summary>
    /// Scores the candidates into <paramref name="scores"/> and writes their indices into <paramref name="order"/>, best
    /// first (ties by model id, so equal scores rank the same way every time). <paramref name="scratch"/> needs room for
    /// twice the candidates. The caller owns every buffer, so ranking allocates nothing.
    /// </summary>
    public static void Rank(ReadOnlySpan<CandidateFigures> candidates, RoutingWeights weights, bool adaptive, Span<RankedCandidate> scores, Span<int> order,
        Span<double> scratch)
    {
        var n = candidates.Length;
        var (latencyMedian, costMedian) = Medians(candidates, scratch[..n]);
        var keys = scratch.Slice(n, n);
        for (var i = 0; i < n; i++)
        {
            scores[i] = Score(candidates[i], i, weights, adaptive, latencyMedian, costMedian);
            keys[i] = -scores[i].Score;
            order[i] = i;
        }
        keys.Sort(order[..n]);
        BreakTies(candidates, keys, order[..n]);
        // The best model admitted as a probe takes the decision: otherwise, having just failed, it would rarely rank first.
        for (var i = 0; i < n; i++)
        {
            if (candidates[order[i]].Health != ModelHealth.Probing) continue;
            var probed = order[i];
            order[..i].CopyTo(order[1..]);
            order[0] = probed;
            break;
        }
    }

    /// <summary>
    /// The candidate <see cref="Rank"/> would put first, without ranking the rest: for callers that score the same
    /// candidates under many weights (the tuner), with the medians from <see cref="Medians"/> computed once.
    /// </summary>
    public static int Best(ReadOnlySpan<CandidateFigures> candidates, RoutingWeights weights, bool adaptive, double latencyMedian, double costMedian)
    {
        var (best, bestScore, probe, probeScore) = (-1, 0.0, -1, 0.0);
        for (var i = 0; i < candidates.Length; i++)
        {
            var score = Score(candidates[i], i, weights, adaptive, latencyMedian, costMedian).Score;
            if (Beats(candidates, i, score, best, bestScore)) (best, bestScore) = (i, score);
            if (candidates[i].Health == ModelHealth.Probing && Beats(candidates, i, score, probe, probeScore)) (probe, probeScore) = (i, score);
        }
        return probe >= 0 ? probe : best;

        static bool Beats(ReadOnlySpan<CandidateFigures> candidates, int i, double score, int other, double otherScore) =>
            other < 0 || score > otherScore || (score == otherScore && string.CompareOrdinal(candidates[i].Model.Id, candidates[other].Model.Id) < 0);
    }

    /// <summary>The candidates' median latency and cost, against which each is normalised; <paramref name="scratch"/> holds one value per candidate.</summary>
    public static (double Latency, double Cost) Medians(ReadOnlySpan<CandidateFigures> candidates, Span<double> scratch)
    {
        var n = candidates.Length;
        var values = scratch[..n];
        for (var i = 0; i < n; i++) values[i] = candidates[i].Latency.Value;
        var latencyMedian = Stats.Median.Of(values);
        for (var i = 0; i < n; i++) values[i] = candidates[i].Cost.Value;
        var costMedian = Stats.Median.Of(values);
        if (costMedian <= 0)
        {
            // Mostly free candidates: priced ones are still told apart, against the median of the priced.
            var priced = 0;
            for (var i = 0; i < n; i++)
                if (candidates[i].Cost.Value > 0) values[priced++] = candidates[i].Cost.Value;
            costMedian = Stats.Median.Of(values[..priced]);
        }
        return (latencyMedian, costMedian);
    }

    private static RankedCandidate Score(in CandidateFigures c, int index, RoutingWeights weights, bool adaptive, double latencyMedian, double costMedian)
    {
        var latency = weights.Latency * Relative(c.Latency.Value, latencyMedian);
        var quality = weights.Quality * c.Quality.Value * c.CapabilityFit;
        var cost = weights.Cost * Relative(c.Cost.Value, costMedian);
        // Expected success scales the whole score; adaptive counts failures twice as hard.
        var success = 1 - c.ErrorRate.Value;
        var score = (latency + quality + cost) * (adaptive ? success * success * HostFactor(c.HostAlert) : success) * (1 - c.Penalty);
        return new RankedCandidate(index, score, latency, quality, cost);
    }

    /// <summary>Orders runs of equal scores by model id (insertion sort: such runs are short and rare).</summary>
    private static void BreakTies(ReadOnlySpan<CandidateFigures> candidates, ReadOnlySpan<double> sortedKeys, Span<int> order)
    {
        for (var i = 1; i < order.Length; i++)
        {
            for (var j = i; j > 0 && sortedKeys[j] == sortedKeys[j - 1]
                            && string.CompareOrdinal(candidates[order[j]].Model.Id, candidates[order[j - 1]].Model.Id) < 0; j--)
                (order[j], order[j - 1]) = (order[j - 1], order[j]);
        }
    }

    /// <summary>
    /// Half evidence (live share of the chosen model's latency figure), half separation from the runner-up (none when the
    /// chosen one scores lower, as a probe or a lower recommendation may).
    /// </summary>
    public static double Confidence(in CandidateFigures best, double bestScore, double? runnerUpScore, double priorStrength)
    {
        var evidence = best.Latency.Samples / (best.Latency.Samples + priorStrength);
        var separation = runnerUpScore is not { } second ? 1 : Math.Clamp((bestScore - second) / ClearLead, 0, 1);
        return Math.Round(0.5 * evidence + 0.5 * separation, 4);
    }

    /// <summary>What adaptive keeps of a score when every host that serves the model has an alert at this level.</summary>
    public static double HostFactor(Resources.AlertLevel level) => level switch
    {
        Resources.AlertLevel.Warning => 0.85,
        Resources.AlertLevel.Critical => 0.5,
        Resources.AlertLevel.Emergency => 0.2,
        _ => 1,
    };

    /// <summary>Lower is better: 0.5 at the median, towards 1 for much less, towards 0 for much more.</summary>
    private static double Relative(double value, double median) =>
        median <= 0 ? (value <= 0 ? 1 : 0.5) : median / (median + value);

    private static Evidence Blend(double? live, long samples, double prior, double priorStrength, double? age)
    {
        if (live is null || samples == 0) return new Evidence(prior, 0, age, EvidenceSource.Prior);
        var value = (samples * live.Value + priorStrength * prior) / (samples + priorStrength);
        return new Evidence(value, samples, age, samples >= 10 * priorStrength ? EvidenceSource.Live : EvidenceSource.Blended);
    }
}
