using System.Globalization;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Tuning;

/// <summary>
/// Tunes the adaptive strategy's base weights (latency, quality, cost) from outcomes. The four fixed strategies never move.
/// <para>
/// <b>Objective</b> (<c>adaptive_objective</c>, higher is better): the expected utility of what the adaptive router would
/// pick. A request routed to model m is worth
/// <c>utility(m) = quality(m) × attainment(m) − CostWeight × cost(m) / costScale</c>, where quality is the model's measured
/// quality mean over the last hour (its catalog <c>QualityPrior</c> when it has no quality samples), attainment the
/// measured share of its requests that succeeded within <see cref="LatencySloSeconds"/> (success rate × the latency
/// CDF at the SLO, interpolated linearly through 0 and the p50/p90/p95/p99/max of the last hour), and cost its measured
/// cost per request over <c>costScale</c>, the median of that across the judged models. The objective of base weights w
/// is the mean, over an evaluation mix of request features (<see cref="EvaluationMix"/>), of the utility of the model
/// the router ranks first: each candidate's figures come from <see cref="ModelScorer.Figures"/> on a
/// <see cref="ModelRoutingStats"/> made from the last hour (priors blended in exactly as the router blends them), ranked
/// by <see cref="ModelScorer.Rank"/> under <see cref="ModelScorer.WeightsFor"/>(adaptive, features, tokens, w). The router
/// decides with its own figures and priors; the objective judges the pick by what was measured.
/// </para>
/// <para>
/// <b>Method</b>: one projected step on the simplex per cycle. The gradient is estimated by central finite differences
/// (each weight moved by ±<see cref="Delta"/>, then renormalised); the objective is piecewise constant (the router takes
/// an argmax), so δ is large enough to cross some decision boundaries. The gradient, projected onto the simplex's plane,
/// gives a step of L1 size <c>LearningRate</c> (and one of half that); since a finite difference may still see a flat
/// objective, the six pairwise moves (LearningRate / 2 taken from one weight and given to another, an L1 step of
/// LearningRate) are tried as well, and the best of these candidates wins. Every candidate is projected onto
/// {sum = 1, <see cref="MinWeight"/> ≤ w ≤ <see cref="MaxWeight"/>} and its move capped at LearningRate (L1).
/// A step that gains less than <see cref="MinImprovement"/> is not proposed.
/// </para>
/// </summary>
public static class AdaptiveWeightRule
{
    public const string RuleName = "adaptive_weights";
    public const string Metric = "adaptive_objective";
    /// <summary>A request counts as served well when it succeeded within this many seconds.</summary>
    public const double LatencySloSeconds = 5;
    /// <summary>What a request at the median cost per request costs in utility (quality × attainment is 0-1).</summary>
    public const double CostWeight = 0.2;
    /// <summary>A model is judged on outcomes only with at least this many requests in the last hour.</summary>
    public const long MinSamples = 30;
    public const double MinWeight = 0.05;
    public const double MaxWeight = 0.9;
    /// <summary>The finite-difference probe on each weight.</summary>
    public const double Delta = 0.05;
    /// <summary>The least gain of the objective a step must bring to be proposed.</summary>
    public const double MinImprovement = 1e-4;
    /// <summary>How many samples a catalog prior counts as: the router's default (<see cref="RoutingOptions.PriorStrength"/>).</summary>
    public const double PriorStrength = 20;
    public const int MixSeed = 20_261_128;
    public const int MixSize = 240;
    /// <summary>
    /// Requests × candidates one objective scores at most: a large catalog is judged on a prefix of the default mix (its
    /// order is random, so a prefix is a fair sample), never fewer than <see cref="MinMixSize"/> requests, so that a
    /// cycle over 1,000 models stays cheap.
    /// </summary>
    public const int CandidateBudget = 60_000;
    public const int MinMixSize = 40;
    /// <summary>A relative gain of this much counts as a clear win for the confidence.</summary>
    public const double ClearGain = 0.05;
    private const string Window = "1h";

    /// <summary>The default evaluation mix (seed <see cref="MixSeed"/>).</summary>
    public static IReadOnlyList<RequestFeatures> DefaultMix { get; } = EvaluationMix(MixSeed, MixSize);

    /// <summary>
    /// A fixed, deterministic set of requests spread over the feature space: reasoning and creativity requirements 0-1,
    /// prompts of 50 to 16,000 tokens (log-uniform), output budgets of 64 to 2,048, code in 30%, streaming in 20%.
    /// </summary>
    public static IReadOnlyList<RequestFeatures> EvaluationMix(int seed, int count = MixSize)
    {
        var random = new Random(seed);
        long[] outputs = [64, 256, 512, 1024, 2048];
        var mix = new RequestFeatures[count];
        for (var i = 0; i < count; i++)
        {
            mix[i] = new RequestFeatures
            {
                ReasoningRequirement = Math.Round(random.NextDouble(), 3),
                CreativityRequirement = Math.Round(random.NextDouble(), 3),
                EstimatedTokens = (long)Math.Round(Math.Exp(Math.Log(50) + random.NextDouble() * (Math.Log(16_000) - Math.Log(50)))),
                OutputTokens = outputs[random.Next(outputs.Length)],
                RequiresCode = random.NextDouble() < 0.3,
                Stream = random.NextDouble() < 0.2,
            };
        }
        return mix;
    }

    /// <summary>
    /// The share of a model's requests that succeeded within <paramref name="sloSeconds"/>: the success rate times the
    /// latency CDF at the SLO, interpolated linearly through (0, 0), (p50, 0.5), (p90, 0.9), (p95, 0.95), (p99, 0.99), (max, 1).
    /// </summary>
    public static double Attainment(ModelSummary summary, double sloSeconds = LatencySloSeconds)
    {
        if (summary.Count == 0) return 0;
        var success = (double)summary.SuccessCount / summary.Count;
        var l = summary.Latency;
        ReadOnlySpan<(double? X, double P)> points = [(l.P50, 0.5), (l.P90, 0.9), (l.P95, 0.95), (l.P99, 0.99), (l.Max, 1.0)];
        double x0 = 0, p0 = 0;
        foreach (var (x, p) in points)
        {
            if (x is not { } value) continue;
            var x1 = Math.Max(value, x0); // sketch quantiles are approximate: keep the curve monotone
            if (sloSeconds < x1) return success * (x1 > x0 ? p0 + (p - p0) * (sloSeconds - x0) / (x1 - x0) : p);
            (x0, p0) = (x1, p);
        }
        return success * (p0 > 0 ? 1 : 0);
    }

    /// <summary>The objective of <paramref name="weights"/> on <paramref name="inputs"/> over a mix (the default when null); null with too little evidence.</summary>
    public static double? Objective(TuningInputs inputs, RoutingWeights weights, IReadOnlyList<RequestFeatures>? mix = null) =>
        AdaptiveObjective.Create(inputs, mix)?.Evaluate(weights);

    /// <summary>
    /// The best projected step from <paramref name="current"/> (see the class's remarks) and its objective; the current
    /// weights themselves when no candidate does better.
    /// </summary>
    public static (RoutingWeights Weights, double Objective) Step(AdaptiveObjective objective, RoutingWeights current, double learningRate)
    {
        var before = objective.Evaluate(current);
        var w = Vector(current);
        var candidates = new List<double[]>(8);

        // Central finite differences: each weight moved by ±δ, the others scaled to keep the sum at 1.
        var gradient = new double[3];
        for (var i = 0; i < 3; i++)
        {
            var up = objective.Evaluate(Weights(Nudge(w, i, Delta)));
            var down = objective.Evaluate(Weights(Nudge(w, i, -Delta)));
            gradient[i] = (up - down) / (2 * Delta);
        }
        var mean = gradient.Average();
        var direction = gradient.Select(g => g - mean).ToArray();
        var norm = direction.Sum(Math.Abs);
        if (norm > 1e-12)
        {
            foreach (var size in new[] { learningRate, learningRate / 2 })
                candidates.Add(w.Select((x, i) => x + size * direction[i] / norm).ToArray());
        }
        // The six pairwise moves: half the learning rate from one weight to another.
        for (var from = 0; from < 3; from++)
        for (var to = 0; to < 3; to++)
        {
            if (from == to) continue;
            var moved = (double[])w.Clone();
            moved[from] -= learningRate / 2;
            moved[to] += learningRate / 2;
            candidates.Add(moved);
        }

        var best = current;
        var bestValue = before;
        foreach (var candidate in candidates)
        {
            var next = Weights(Limit(w, Project(candidate), learningRate));
            var value = objective.Evaluate(next);
            if (value > bestValue + 1e-12)
            {
                best = next;
                bestValue = value;
            }
        }
        return (best, bestValue);
    }

    /// <summary>A step of the adaptive base weights toward a higher objective; null with too little evidence or too little gain.</summary>
    public static TuningProposal? Propose(TuningInputs inputs) => Propose(inputs, null);

    /// <summary>As <see cref="Propose(TuningInputs)"/>, evaluated on <paramref name="mix"/> (the default when null).</summary>
    public static TuningProposal? Propose(TuningInputs inputs, IReadOnlyList<RequestFeatures>? mix)
    {
        if (AdaptiveObjective.Create(inputs, mix) is not { } objective) return null;
        var current = inputs.AdaptiveBase;
        var before = objective.Evaluate(current);
        var (next, after) = Step(objective, current, inputs.Configuration.LearningRate);
        if (after - before < MinImprovement) return null;

        var gain = (after - before) / Math.Max(Math.Abs(before), ClearGain);
        var judged = objective.Models;
        var evidence = Math.Min(judged.Min(m => m.Requests / (m.Requests + 50.0)),
            judged.Where(m => m.QualitySamples > 0).Min(m => m.QualitySamples / (m.QualitySamples + 50.0)));
        var confidence = evidence * (0.5 + 0.5 * Math.Clamp(gain / ClearGain, 0, 1));
        var requests = judged.Sum(m => m.Requests);
        var c = CultureInfo.InvariantCulture;
        return new TuningProposal
        {
            Rule = RuleName,
            Action = "set_weights",
            Target = "routing:adaptive",
            CurrentWeights = current,
            RecommendedWeights = next,
            Confidence = Math.Round(confidence, 3),
            ExpectedImpact = Math.Round(Math.Clamp(gain, 0, 1), 3),
            Reasoning = string.Create(c,
                $"Over the last hour's {requests} requests to {judged.Count} models, moving the adaptive base weights from {Text(current)} to {Text(next)} " +
                $"raises the expected utility of the adaptive pick ({objective.Mix} evaluation requests) from {before:0.0000} to {after:0.0000} ({gain:+0.0%;-0.0%})."),
            Evidence =
            [
                .. judged.SelectMany(m => (TuningEvidence[])
                [
                    new($"quality_mean:{m.Id}", m.Quality, m.QualitySamples, Window),
                    new($"slo_attainment:{m.Id}", m.Attainment, m.Requests, Window),
                    new($"cost_per_request:{m.Id}", m.CostPerRequest, m.Requests, Window),
                ]),
                new("adaptive_objective_before", before, requests, Window),
                new("adaptive_objective_after", after, requests, Window),
            ],
            EvaluationMetric = Metric,
            Baseline = before,
            LowerIsBetter = false,
        };
    }

    private static string Text(RoutingWeights w) =>
        string.Create(CultureInfo.InvariantCulture, $"(latency {w.Latency:0.000}, quality {w.Quality:0.000}, cost {w.Cost:0.000})");

    private static double[] Vector(RoutingWeights w) => [w.Latency, w.Quality, w.Cost];

    private static RoutingWeights Weights(double[] v) => new(v[0], v[1], v[2]);

    /// <summary>Weight <paramref name="i"/> moved by <paramref name="delta"/> (not below 0), the whole renormalised to 1.</summary>
    private static double[] Nudge(double[] w, int i, double delta)
    {
        var v = (double[])w.Clone();
        v[i] = Math.Max(0, v[i] + delta);
        var sum = v.Sum();
        return v.Select(x => x / sum).ToArray();
    }

    /// <summary>The Euclidean projection onto {sum = 1, MinWeight ≤ w ≤ MaxWeight}: w = clamp(v − τ), τ found by bisection.</summary>
    private static double[] Project(double[] v)
    {
        double lo = v.Min() - MaxWeight, hi = v.Max() - MinWeight;
        for (var k = 0; k < 200 && hi - lo > 1e-15; k++)
        {
            var tau = (lo + hi) / 2;
            if (v.Sum(x => Math.Clamp(x - tau, MinWeight, MaxWeight)) > 1) lo = tau;
            else hi = tau;
        }
        var p = v.Select(x => Math.Clamp(x - (lo + hi) / 2, MinWeight, MaxWeight)).ToArray();
        // The bisection leaves an error of ~1e-15 in the sum: give it to the weight with the most room.
        var error = 1 - p.Sum();
        var roomiest = Enumerable.Range(0, 3).MaxBy(i => Math.Min(p[i] - MinWeight, MaxWeight - p[i]));
        p[roomiest] += error;
        return p;
    }

    /// <summary>The move from <paramref name="from"/> to <paramref name="to"/>, shortened to at most <paramref name="learningRate"/> in L1.</summary>
    private static double[] Limit(double[] from, double[] to, double learningRate)
    {
        var distance = from.Zip(to, (a, b) => Math.Abs(a - b)).Sum();
        if (distance <= learningRate) return to;
        var scale = learningRate / distance * (1 - 1e-12);
        return from.Select((a, i) => a + (to[i] - a) * scale).ToArray();
    }
}

/// <summary>A model as the objective judges it: its measured figures over the last hour and the utility of a request routed to it.</summary>
public sealed record JudgedModel(string Id, long Requests, double Quality, long QualitySamples, double Attainment, double CostPerRequest, double Utility);

/// <summary>
/// The adaptive objective on one cycle's inputs and one evaluation mix, with every candidate's figures computed once:
/// only the ranking depends on the weights.
/// </summary>
public sealed class AdaptiveObjective
{
    private readonly CandidateFigures[][] _figures;
    private readonly double[][] _utilities;
    private readonly RequestFeatures[] _features;
    private readonly (double Latency, double Cost)[] _medians;

    private AdaptiveObjective(IReadOnlyList<JudgedModel> models, CandidateFigures[][] figures, double[][] utilities, RequestFeatures[] features)
    {
        Models = models;
        _figures = figures;
        _utilities = utilities;
        _features = features;
        // The medians depend on the candidates, not on the weights: once per request, not once per evaluation.
        var scratch = new double[models.Count];
        _medians = [.. figures.Select(f => ModelScorer.Medians(f, scratch))];
    }

    /// <summary>The models judged (at least <see cref="AdaptiveWeightRule.MinSamples"/> requests in the last hour).</summary>
    public IReadOnlyList<JudgedModel> Models { get; }

    /// <summary>The evaluation requests at least one judged model can serve.</summary>
    public int Mix => _features.Length;

    /// <summary>
    /// The objective over <paramref name="inputs"/>' models and <paramref name="mix"/> (the default when null); null with
    /// fewer than two models of at least <see cref="AdaptiveWeightRule.MinSamples"/> requests, or none with quality samples.
    /// </summary>
    public static AdaptiveObjective? Create(TuningInputs inputs, IReadOnlyList<RequestFeatures>? mix = null)
    {
        var observed = inputs.Models.Where(m => m.LastHour.Count >= AdaptiveWeightRule.MinSamples).OrderBy(m => m.Model.Id, StringComparer.Ordinal).ToList();
        if (observed.Count < 2 || observed.All(m => m.LastHour.Quality.Count == 0)) return null;

        Span<double> costs = stackalloc double[observed.Count];
        var priced = 0;
        foreach (var m in observed)
            if (m.LastHour.Cost.PerRequest is > 0 and var cost) costs[priced++] = cost;
        var costScale = Median.Of(costs[..priced]);
        var models = observed.Select(m =>
        {
            var s = m.LastHour;
            var quality = s.Quality.Count > 0 && s.Quality.Mean is { } mean ? mean : m.Model.QualityPrior;
            var attainment = AdaptiveWeightRule.Attainment(s);
            var cost = s.Cost.PerRequest ?? 0;
            var utility = quality * attainment - (costScale > 0 ? AdaptiveWeightRule.CostWeight * cost / costScale : 0);
            return new JudgedModel(m.Model.Id, s.Count, quality, s.Quality.Count, attainment, cost, utility);
        }).ToList();

        var stats = observed.Select(m => new ModelRoutingStats(m.Model.Id, m.LastHour.Count, m.LastHour.Latency.P95, m.LastHour.Ttft.P95,
            m.LastHour.ErrorRate, m.LastHour.Cost.PerRequest, m.LastHour.Quality.Mean, m.LastHour.Quality.Count, 0, m.LastHour.SuccessCount, inputs.Now,
            m.LastHour.Ttft.SampleCount)).ToList();
        var figures = new List<CandidateFigures[]>();
        var utilities = new List<double[]>();
        var features = new List<RequestFeatures>();
        var requests = mix ?? AdaptiveWeightRule.DefaultMix.Take(Math.Max(AdaptiveWeightRule.MinMixSize, AdaptiveWeightRule.CandidateBudget / observed.Count));
        foreach (var request in requests)
        {
            var tokens = request.EstimatedTokens ?? 0;
            var passing = new List<CandidateFigures>(observed.Count);
            var utility = new List<double>(observed.Count);
            for (var i = 0; i < observed.Count; i++)
            {
                var model = observed[i].Model;
                if (!Serves(model, request, tokens)) continue;
                var f = ModelScorer.Figures(model, stats[i], request, tokens, AdaptiveWeightRule.PriorStrength, inputs.Now);
                if (ModelScorer.Exceeds(f, request) is not null) continue;
                passing.Add(observed[i].Penalty > 0 ? f with { Penalty = observed[i].Penalty } : f);
                utility.Add(models[i].Utility);
            }
            if (passing.Count == 0) continue;
            figures.Add([.. passing]);
            utilities.Add([.. utility]);
            features.Add(request);
        }
        return features.Count == 0 ? null : new AdaptiveObjective(models, [.. figures], [.. utilities], [.. features]);
    }

    /// <summary>The mean utility of the adaptive router's first pick under base weights <paramref name="weights"/>.</summary>
    public double Evaluate(RoutingWeights weights)
    {
        var total = 0.0;
        for (var r = 0; r < _features.Length; r++)
        {
            var request = _features[r];
            var w = ModelScorer.WeightsFor(RoutingStrategy.Adaptive, request, request.EstimatedTokens ?? 0, weights);
            total += _utilities[r][ModelScorer.Best(_figures[r], w, adaptive: true, _medians[r].Latency, _medians[r].Cost)];
        }
        return total / _features.Length;
    }

    /// <summary>The router's hard filters that need no live figures: kind, capabilities, output budget, context window.</summary>
    private static bool Serves(Catalog.ModelDescriptor model, RequestFeatures f, long tokens) =>
        model.Kind == f.Kind && !(f.RequiresVision && !model.Capabilities.Vision) && !(f.RequiresCode && !model.Capabilities.Code) && !(f.RequiresTools && !model.Capabilities.Tools)
        && f.OutputTokens <= model.MaxOutputTokens && tokens + f.OutputTokens <= model.ContextWindow;
}
