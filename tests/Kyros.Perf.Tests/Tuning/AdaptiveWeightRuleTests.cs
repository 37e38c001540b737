using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Kyros.Perf.Tuning;

namespace Kyros.Perf.Tests.Tuning;

public sealed class AdaptiveWeightRuleTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
    private static readonly RoutingWeights Balanced = RoutingWeights.For(RoutingStrategy.Balanced);
    private static readonly IReadOnlyList<RequestFeatures> MixA = AdaptiveWeightRule.EvaluationMix(seed: 11);
    private static readonly IReadOnlyList<RequestFeatures> MixB = AdaptiveWeightRule.EvaluationMix(seed: 4242);

    /// <summary>How a simulated model behaves, and what its catalog entry claims.</summary>
    private sealed record Profile(string Id, double QualityPrior, double Quality, double LatencyMedian, double Spread, double ErrorRate,
        double InputPrice, double OutputPrice, double Capability, double FeedbackShare, int Requests = 600);

    // The catalog misleads: "oracle" claims 0.95 quality and delivers 0.55, at eight times bargain's price; "bargain" claims
    // 0.5 and delivers 0.85, cheaply and fast. Feedback on them is sparse (2%), so the router's quality figures still lean on
    // those priors, and the untuned adaptive base sends demanding requests to oracle. "laggard" is good but often misses the SLO.
    private static readonly Profile[] Profiles =
    [
        new("oracle", QualityPrior: 0.95, Quality: 0.55, LatencyMedian: 1.2, Spread: 0.35, ErrorRate: 0.01, InputPrice: 0.004, OutputPrice: 0.012, Capability: 0.95, FeedbackShare: 0.02),
        new("bargain", QualityPrior: 0.50, Quality: 0.85, LatencyMedian: 0.8, Spread: 0.35, ErrorRate: 0.01, InputPrice: 0.0005, OutputPrice: 0.0015, Capability: 0.7, FeedbackShare: 0.02),
        new("steady", QualityPrior: 0.75, Quality: 0.72, LatencyMedian: 1.5, Spread: 0.35, ErrorRate: 0.02, InputPrice: 0.002, OutputPrice: 0.004, Capability: 0.8, FeedbackShare: 0.05),
        new("laggard", QualityPrior: 0.90, Quality: 0.88, LatencyMedian: 4.5, Spread: 0.5, ErrorRate: 0.02, InputPrice: 0.001, OutputPrice: 0.002, Capability: 0.9, FeedbackShare: 0.05),
    ];

    private static ModelDescriptor Descriptor(Profile p) => new()
    {
        Id = p.Id,
        Capabilities = new ModelCapabilities { Code = true, Tools = true, Reasoning = p.Capability, Creativity = p.Capability },
        InputPricePer1k = p.InputPrice,
        OutputPricePer1k = p.OutputPrice,
        ContextWindow = 128_000,
        LatencyPrior = p.LatencyMedian,
        QualityPrior = p.QualityPrior,
    };

    /// <summary>The last hour of a profile: log-normal latencies, errors at its rate, catalog prices, sparse feedback around its quality.</summary>
    private static ModelObservation Observe(Profile p, int seed)
    {
        var model = Descriptor(p);
        var random = new Random(seed);
        var aggregate = new MetricsAggregate();
        for (var i = 0; i < p.Requests; i++)
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            var seconds = p.LatencyMedian * Math.Exp(p.Spread * gaussian);
            var input = random.Next(200, 3000);
            var outputTokens = random.Next(100, 800);
            var success = random.NextDouble() >= p.ErrorRate;
            double? quality = random.NextDouble() < p.FeedbackShare ? Math.Clamp(p.Quality + 0.1 * (random.NextDouble() - 0.5) * 2, 0, 1) : null;
            aggregate.Add(new ModelPerformanceRecord(p.Id, null, Now.AddSeconds(-3600 * random.NextDouble()), seconds, seconds / 4, input, outputTokens,
                success, success ? null : "server_error", model.PriceOf(input, outputTokens), quality, $"{p.Id}-{i}"));
        }
        var summary = ModelSummary.Create(p.Id, "1h", Now.AddHours(-1), Now, aggregate);
        return new ModelObservation(model, summary, [], model.TimeoutSeconds, 0);
    }

    private static TuningInputs Inputs(IEnumerable<Profile> profiles, RoutingWeights? adaptiveBase = null, TuningConfiguration? configuration = null) => new(
        Now, configuration ?? new TuningConfiguration(), profiles.Select((p, i) => Observe(p, seed: 100 + i)).ToList(), [], [],
        TuningOverrides.None with { AdaptiveBase = adaptiveBase });

    private static double L1(RoutingWeights a, RoutingWeights b) =>
        Math.Abs(a.Latency - b.Latency) + Math.Abs(a.Quality - b.Quality) + Math.Abs(a.Cost - b.Cost);

    /// <summary>Tunes on mix A from the balanced base, up to 20 steps; every proposal and the base after each.</summary>
    private static List<TuningProposal> Tune(TuningInputs inputs, int steps = 20)
    {
        var proposals = new List<TuningProposal>();
        for (var i = 0; i < steps; i++)
        {
            var proposal = AdaptiveWeightRule.Propose(inputs, MixA);
            if (proposal is null) break;
            proposals.Add(proposal);
            inputs = inputs with { Overrides = inputs.Overrides with { AdaptiveBase = proposal.RecommendedWeights } };
        }
        return proposals;
    }

    [Fact]
    public void Tuning_on_one_mix_raises_the_objective_on_a_held_out_mix()
    {
        var inputs = Inputs(Profiles);
        var proposals = Tune(inputs);
        Assert.NotEmpty(proposals);
        var tuned = proposals[^1].RecommendedWeights!.Value;

        var untunedA = AdaptiveWeightRule.Objective(inputs, Balanced, MixA)!.Value;
        var tunedA = AdaptiveWeightRule.Objective(inputs, tuned, MixA)!.Value;
        var untunedB = AdaptiveWeightRule.Objective(inputs, Balanced, MixB)!.Value;
        var tunedB = AdaptiveWeightRule.Objective(inputs, tuned, MixB)!.Value;
        output.WriteLine($"{proposals.Count} steps: {Balanced} -> {tuned}");
        output.WriteLine($"mix A (tuning): {untunedA:0.0000} -> {tunedA:0.0000}; mix B (held out): {untunedB:0.0000} -> {tunedB:0.0000} ({(tunedB - untunedB) / untunedB:+0.0%})");
        foreach (var m in AdaptiveObjective.Create(inputs, MixB)!.Models) output.WriteLine($"  {m}");
        foreach (var p in proposals) output.WriteLine($"  {p.Baseline:0.0000} {p.RecommendedWeights} conf {p.Confidence} impact {p.ExpectedImpact}");

        // Each proposal's baseline is the objective of the weights it starts from, and the steps climb on the tuning mix.
        Assert.Equal(untunedA, proposals[0].Baseline!.Value, 12);
        for (var i = 1; i < proposals.Count; i++) Assert.True(proposals[i].Baseline > proposals[i - 1].Baseline);
        Assert.True(tunedA > untunedA);
        // On requests it was not tuned on, the tuned base still picks better: by more than 5%.
        Assert.True(tunedB > untunedB, $"held out: tuned {tunedB} vs untuned {untunedB}");
        Assert.True((tunedB - untunedB) / untunedB > 0.05, $"held out: tuned {tunedB} vs untuned {untunedB}");
    }

    [Fact]
    public void Every_step_is_small_stays_in_bounds_and_leaves_the_fixed_strategies_alone()
    {
        RoutingWeights[] fixedBefore = [.. new[] { RoutingStrategy.LowestLatency, RoutingStrategy.HighestQuality, RoutingStrategy.CostEffective, RoutingStrategy.Balanced }
            .Select(RoutingWeights.For)];
        var configuration = new TuningConfiguration();
        var proposals = Tune(Inputs(Profiles, configuration: configuration));
        Assert.NotEmpty(proposals);
        var previous = Balanced;
        foreach (var p in proposals)
        {
            Assert.Equal(previous, p.CurrentWeights);
            var next = p.RecommendedWeights!.Value;
            Assert.True(L1(previous, next) <= configuration.LearningRate + 1e-9, $"{previous} -> {next}");
            Assert.Equal(1, next.Latency + next.Quality + next.Cost, 9);
            foreach (var w in new[] { next.Latency, next.Quality, next.Cost })
                Assert.InRange(w, AdaptiveWeightRule.MinWeight - 1e-9, AdaptiveWeightRule.MaxWeight + 1e-9);
            Assert.Equal("adaptive_weights", p.Rule);
            Assert.Equal("set_weights", p.Action);
            Assert.Equal("routing:adaptive", p.Target);
            Assert.Equal("adaptive_objective", p.EvaluationMetric);
            Assert.False(p.LowerIsBetter);
            Assert.InRange(p.Confidence, 0, 1);
            Assert.InRange(p.ExpectedImpact, 0, 1);
            previous = next;

            // The fixed strategies ignore a tuned base.
            foreach (var strategy in new[] { RoutingStrategy.LowestLatency, RoutingStrategy.HighestQuality, RoutingStrategy.CostEffective, RoutingStrategy.Balanced })
                Assert.Equal(RoutingWeights.For(strategy), ModelScorer.WeightsFor(strategy, new RequestFeatures { ReasoningRequirement = 1 }, 5000, next));
        }
        Assert.Equal(fixedBefore, new[] { RoutingStrategy.LowestLatency, RoutingStrategy.HighestQuality, RoutingStrategy.CostEffective, RoutingStrategy.Balanced }
            .Select(RoutingWeights.For).ToArray());
        Assert.Equal(new RoutingWeights(0.70, 0.20, 0.10), RoutingWeights.For(RoutingStrategy.LowestLatency));
        Assert.Equal(new RoutingWeights(0.10, 0.80, 0.10), RoutingWeights.For(RoutingStrategy.HighestQuality));
        Assert.Equal(new RoutingWeights(0.20, 0.30, 0.50), RoutingWeights.For(RoutingStrategy.CostEffective));
        Assert.Equal(new RoutingWeights(0.33, 0.33, 0.34), RoutingWeights.For(RoutingStrategy.Balanced));
    }

    [Fact]
    public void A_larger_learning_rate_still_bounds_each_step()
    {
        var configuration = new TuningConfiguration { LearningRate = 0.5 };
        var proposals = Tune(Inputs(Profiles, configuration: configuration), steps: 5);
        Assert.NotEmpty(proposals);
        foreach (var p in proposals)
        {
            var next = p.RecommendedWeights!.Value;
            Assert.True(L1(p.CurrentWeights!.Value, next) <= 0.5 + 1e-9);
            Assert.Equal(1, next.Latency + next.Quality + next.Cost, 9);
            foreach (var w in new[] { next.Latency, next.Quality, next.Cost })
                Assert.InRange(w, AdaptiveWeightRule.MinWeight - 1e-9, AdaptiveWeightRule.MaxWeight + 1e-9);
        }
    }

    [Fact]
    public void Too_little_evidence_proposes_nothing()
    {
        // Fewer than 30 requests each.
        Assert.Null(AdaptiveWeightRule.Propose(Inputs(Profiles.Select(p => p with { Requests = 25 }))));
        // Only one model with enough.
        Assert.Null(AdaptiveWeightRule.Propose(Inputs(Profiles.Select((p, i) => i == 0 ? p : p with { Requests = 20 }))));
        // No model with quality samples.
        Assert.Null(AdaptiveWeightRule.Propose(Inputs(Profiles.Select(p => p with { FeedbackShare = 0 }))));
        Assert.Null(AdaptiveWeightRule.Objective(Inputs(Profiles.Select(p => p with { Requests = 25 })), Balanced));
        // No models at all.
        Assert.Null(AdaptiveWeightRule.Propose(Inputs([])));
    }

    [Fact]
    public void Nothing_is_proposed_when_no_step_helps()
    {
        // Two identical models: whichever the router picks, the utility is the same.
        var twin = Profiles[2];
        var inputs = Inputs([twin with { Id = "twin-a" }, twin with { Id = "twin-b" }]);
        Assert.NotNull(AdaptiveWeightRule.Objective(inputs, Balanced));
        Assert.Null(AdaptiveWeightRule.Propose(inputs));
    }

    [Fact]
    public void The_evidence_names_each_model_with_its_sample_counts_and_the_objective_before_and_after()
    {
        var inputs = Inputs(Profiles);
        var proposal = AdaptiveWeightRule.Propose(inputs);
        Assert.NotNull(proposal);
        Assert.Equal(Balanced, proposal.CurrentWeights);
        foreach (var m in inputs.Models)
        {
            var s = m.LastHour;
            var quality = Assert.Single(proposal.Evidence, e => e.Name == $"quality_mean:{m.Model.Id}");
            Assert.Equal(s.Quality.Count, quality.Samples);
            Assert.Equal(s.Quality.Mean!.Value, quality.Value, 12);
            var attainment = Assert.Single(proposal.Evidence, e => e.Name == $"slo_attainment:{m.Model.Id}");
            Assert.Equal(s.Count, attainment.Samples);
            Assert.Equal(AdaptiveWeightRule.Attainment(s), attainment.Value, 12);
            var cost = Assert.Single(proposal.Evidence, e => e.Name == $"cost_per_request:{m.Model.Id}");
            Assert.Equal(s.Count, cost.Samples);
            Assert.Equal(s.Cost.PerRequest!.Value, cost.Value, 12);
            Assert.Contains(m.Model.Id, string.Join(" ", proposal.Evidence.Select(e => e.Name)));
        }
        Assert.All(proposal.Evidence, e => Assert.Equal("1h", e.Window));
        var before = Assert.Single(proposal.Evidence, e => e.Name == "adaptive_objective_before").Value;
        var after = Assert.Single(proposal.Evidence, e => e.Name == "adaptive_objective_after").Value;
        Assert.Equal(proposal.Baseline!.Value, before, 12);
        Assert.Equal(AdaptiveWeightRule.Objective(inputs, proposal.RecommendedWeights!.Value)!.Value, after, 12);
        Assert.True(after > before);
        Assert.Equal(Math.Round((after - before) / before, 3), proposal.ExpectedImpact, 6);
        Assert.Contains(before.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), proposal.Reasoning);
    }

    [Fact]
    public void Attainment_interpolates_the_latency_distribution_at_the_slo()
    {
        var aggregate = new MetricsAggregate();
        for (var i = 1; i <= 100; i++)
            aggregate.Add(new ModelPerformanceRecord("m", null, Now, i * 0.1, null, 10, 10, i % 10 != 0, i % 10 != 0 ? null : "server_error", 0, null, $"r{i}"));
        var summary = ModelSummary.Create("m", "1h", Now.AddHours(-1), Now, aggregate);
        // Latencies 0.1..10 s, 90% successes: about half are within 5 s, all within 10.1 s, none within 0.
        Assert.Equal(0.9 * 0.5, AdaptiveWeightRule.Attainment(summary, 5), 1);
        Assert.Equal(0.9, AdaptiveWeightRule.Attainment(summary, 11), 9);
        Assert.Equal(0, AdaptiveWeightRule.Attainment(summary, 0), 9);
        Assert.True(AdaptiveWeightRule.Attainment(summary, 2) < AdaptiveWeightRule.Attainment(summary, 4));
    }
}
