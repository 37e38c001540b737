using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Tests.Routing;

public sealed class RoutingEngineTests
{
    // p95 figures with 10,000 samples each, so the priors hardly count: fast, smart and free.
    private static RoutingFixture ThreeModels()
    {
        var fixture = new RoutingFixture([
            RoutingFixture.Model("fast", latency: 0.3, quality: 0.6, inputPrice: 0.001, outputPrice: 0.002),
            RoutingFixture.Model("smart", latency: 2, quality: 0.95, inputPrice: 0.03, outputPrice: 0.06),
            RoutingFixture.Model("cheap", latency: 1, quality: 0.7, inputPrice: 0, outputPrice: 0),
        ]);
        fixture.Snapshot.Apply([
            fixture.Stats("fast", 10_000, 0.4, quality: 0.6),
            fixture.Stats("smart", 10_000, 3.0, quality: 0.95),
            fixture.Stats("cheap", 10_000, 1.5, quality: 0.7),
        ]);
        return fixture;
    }

    [Theory]
    [InlineData(RoutingStrategy.LowestLatency, "fast")]
    [InlineData(RoutingStrategy.HighestQuality, "smart")]
    [InlineData(RoutingStrategy.CostEffective, "cheap")]
    [InlineData(RoutingStrategy.Balanced, "cheap")]
    public void Each_strategy_picks_what_its_weights_imply(RoutingStrategy strategy, string expected)
    {
        var decision = ThreeModels().Decide(strategy);
        Assert.Equal(expected, decision.SelectedModel);
        Assert.Equal(RoutingWeights.For(strategy), decision.Weights);
        Assert.Equal(decision.Candidates.Skip(1).Select(c => c.Model), decision.FallbackOrder);
        Assert.Contains(expected, decision.Reasoning);

        // The parts are the weights times the normalised figures: latency against the median p95, here cheap's.
        var fast = decision.Candidates.Single(c => c.Model == "fast");
        var p95 = fast.Latency.Value;
        var median = decision.Candidates.Single(c => c.Model == "cheap").Latency.Value;
        Assert.Equal(decision.Weights.Latency * median / (median + p95), fast.LatencyPart, 9);
        Assert.Equal((fast.LatencyPart + fast.QualityPart + fast.CostPart) * (1 - fast.ErrorRate.Value), fast.Score, 9);
    }

    [Fact]
    public void A_catalog_change_keeps_each_models_statistics_and_penalty_with_it_and_a_removed_model_is_not_chosen()
    {
        var fast = RoutingFixture.Model("fast", 1, 0.8, 0.001, 0.001);
        var slow = RoutingFixture.Model("slow", 1, 0.8, 0.001, 0.001);
        var fixture = new RoutingFixture([fast, slow]);
        fixture.Snapshot.Apply([fixture.Stats("fast", 10_000, 0.5), fixture.Stats("slow", 10_000, 5)]);
        Assert.Equal("fast", fixture.Decide(RoutingStrategy.LowestLatency).SelectedModel);

        // A new model first in the catalog moves every index: the statistics follow the ids, not the places.
        var newcomer = RoutingFixture.Model("newcomer", 8, 0.8, 0.001, 0.001);
        fixture.Catalog.Apply(new CatalogSnapshot(2, [new CatalogEntry(newcomer, 2), new CatalogEntry(slow, 1), new CatalogEntry(fast, 1)], []));
        var decision = fixture.Decide(RoutingStrategy.LowestLatency);
        Assert.Equal("fast", decision.SelectedModel);
        Assert.Equal(["slow", "newcomer"], decision.FallbackOrder);
        Assert.Contains("newcomer", fixture.Engine.State("silo").Models.Select(m => m.Model));

        // Removed: no longer a candidate, and naming it is an unknown model.
        fixture.Catalog.Apply(new CatalogSnapshot(3, [new CatalogEntry(newcomer, 2), new CatalogEntry(slow, 1)], [new RemovedModel("fast", fixture.Time.GetUtcNow(), 3, fixture.Time.GetUtcNow())]));
        Assert.Equal("slow", fixture.Decide(RoutingStrategy.LowestLatency).SelectedModel);
        var error = Assert.Throws<ArgumentException>(() => fixture.Decide(RoutingStrategy.LowestLatency, candidates: ["fast"]));
        Assert.Equal("available_models[0]", error.ParamName);
    }

    [Fact]
    public void Adaptive_discounts_a_model_whose_hosts_all_have_alerts_and_the_fixed_strategies_do_not()
    {
        var a = RoutingFixture.Model("llama-a", 1, 0.8, 0, 0);
        a.Hosts = ["gpu-1"];
        var b = RoutingFixture.Model("llama-b", 1, 0.8, 0, 0);
        b.Hosts = ["gpu-2", "gpu-3"];
        var fixture = new RoutingFixture([a, b]);
        fixture.Snapshot.Apply([fixture.Stats("llama-a", 10_000, 1.0), fixture.Stats("llama-b", 10_000, 1.05)]);
        Assert.Equal("llama-a", fixture.Decide(RoutingStrategy.Adaptive).SelectedModel);

        // gpu-1 is critical: llama-a keeps half its score. llama-b has one healthy host left, so it is not discounted.
        fixture.Snapshot.ApplyHostAlerts([
            new Kyros.Perf.Resources.ActiveAlert("x", "gpu-1", "gpu_temperature:0", Kyros.Perf.Resources.AlertLevel.Critical, fixture.Time.GetUtcNow(), fixture.Time.GetUtcNow(), 90),
            new Kyros.Perf.Resources.ActiveAlert("y", "gpu-2", "cpu", Kyros.Perf.Resources.AlertLevel.Emergency, fixture.Time.GetUtcNow(), fixture.Time.GetUtcNow(), 99),
        ]);
        var adaptive = fixture.Decide(RoutingStrategy.Adaptive);
        Assert.Equal("llama-b", adaptive.SelectedModel);
        var discounted = adaptive.Candidates.Single(c => c.Model == "llama-a");
        Assert.Equal(Kyros.Perf.Resources.AlertLevel.Critical, discounted.HostAlert);
        Assert.Equal((discounted.LatencyPart + discounted.QualityPart + discounted.CostPart) * Math.Pow(1 - discounted.ErrorRate.Value, 2) * 0.5, discounted.Score, 9);
        Assert.Equal(Kyros.Perf.Resources.AlertLevel.None, adaptive.Candidates.Single(c => c.Model == "llama-b").HostAlert);
        Assert.Contains("llama-a's hosts have critical alerts", adaptive.Reasoning);

        Assert.Equal("llama-a", fixture.Decide(RoutingStrategy.Balanced).SelectedModel);
    }

    [Fact]
    public void Capabilities_and_the_context_window_filter_with_reasons()
    {
        var fixture = new RoutingFixture([
            RoutingFixture.Model("eyes", 1, 0.8, 0.01, 0.01, vision: true, context: 200_000),
            RoutingFixture.Model("blind", 1, 0.8, 0.01, 0.01, vision: false),
            RoutingFixture.Model("small", 1, 0.8, 0.01, 0.01, vision: true, context: 8_192),
        ]);
        var decision = fixture.Decide(RoutingStrategy.Balanced, new RequestFeatures { RequiresVision = true, EstimatedTokens = 10_000 });
        Assert.Equal("eyes", decision.SelectedModel);
        Assert.Contains("vision", decision.Rejected.Single(r => r.Model == "blind").Reason);
        Assert.Contains("context window of 8192", decision.Rejected.Single(r => r.Model == "small").Reason);
        Assert.Empty(decision.FallbackOrder);

        var none = Assert.Throws<NoCandidateException>(() => fixture.Decide(RoutingStrategy.Balanced, new RequestFeatures { EstimatedTokens = 500_000 }));
        Assert.Equal(3, none.Rejected.Count);
    }

    [Fact]
    public void Three_great_samples_do_not_beat_ten_thousand_good_ones_until_the_evidence_grows()
    {
        var fixture = new RoutingFixture([RoutingFixture.Model("new", 1, 0.8, 0.01, 0.01), RoutingFixture.Model("proven", 1, 0.8, 0.01, 0.01)]);
        fixture.Snapshot.Apply([fixture.Stats("new", 3, 0.1), fixture.Stats("proven", 10_000, 0.5)]);
        var early = fixture.Decide(RoutingStrategy.LowestLatency);
        Assert.Equal("proven", early.SelectedModel);
        Assert.Equal(EvidenceSource.Blended, early.Candidates.Single(c => c.Model == "new").Latency.Source);

        fixture.Snapshot.Apply([fixture.Stats("new", 2_000, 0.1), fixture.Stats("proven", 10_000, 0.5)]);
        Assert.Equal("new", fixture.Decide(RoutingStrategy.LowestLatency).SelectedModel);
    }

    [Fact]
    public void One_outlier_does_not_flatten_the_others()
    {
        var fixture = new RoutingFixture([
            RoutingFixture.Model("a", 1, 0.8, 0.01, 0.01), RoutingFixture.Model("b", 1, 0.8, 0.01, 0.01), RoutingFixture.Model("stuck", 1, 0.8, 0.01, 0.01),
        ]);
        fixture.Snapshot.Apply([fixture.Stats("a", 10_000, 0.5), fixture.Stats("b", 10_000, 1.0), fixture.Stats("stuck", 10_000, 600)]);
        var decision = fixture.Decide(RoutingStrategy.LowestLatency);
        var a = decision.Candidates.Single(c => c.Model == "a").LatencyPart / decision.Weights.Latency;
        var b = decision.Candidates.Single(c => c.Model == "b").LatencyPart / decision.Weights.Latency;
        // Against the median (b), a is 2/3 and b 1/2: a min-max scale would have put both near 1.
        Assert.Equal(2.0 / 3, a, 2);
        Assert.Equal(0.5, b, 2);
        Assert.True(decision.Candidates.Single(c => c.Model == "stuck").LatencyPart < 0.01);
    }

    [Fact]
    public void A_failing_model_cools_down_is_probed_and_is_trusted_again_after_a_success()
    {
        var fixture = new RoutingFixture([RoutingFixture.Model("flaky", 0.2, 0.9, 0.001, 0.001), RoutingFixture.Model("steady", 2, 0.8, 0.01, 0.01)]);
        fixture.Snapshot.Apply([fixture.Stats("flaky", 1_000, 0.3), fixture.Stats("steady", 1_000, 2)]);
        Assert.Equal("flaky", fixture.Decide(RoutingStrategy.Balanced).SelectedModel);

        fixture.Snapshot.Apply([fixture.Stats("flaky", 1_000, 0.3, consecutiveFailures: 5), fixture.Stats("steady", 1_000, 2)]);
        var cooling = fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Admit);
        Assert.Equal("steady", cooling.SelectedModel);
        Assert.Contains("cooling down", cooling.Rejected.Single().Reason);

        // After the cooldown, a share of decisions probes it.
        fixture.Time.Advance(fixture.Options.CooldownPeriod + TimeSpan.FromSeconds(1));
        fixture.Snapshot.Apply([fixture.Stats("flaky", 1_000, 0.3, consecutiveFailures: 5), fixture.Stats("steady", 1_000, 2)]);
        Assert.Equal("steady", fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Refuse).SelectedModel);
        var probe = fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Admit);
        Assert.Equal("flaky", probe.SelectedModel);
        Assert.Equal(ModelHealth.Probing, probe.Candidates[0].Health);

        // One success and it takes every decision again.
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        fixture.Snapshot.Apply([fixture.Stats("flaky", 1_000, 0.3, successes: 1), fixture.Stats("steady", 1_000, 2)]);
        var healthy = fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Refuse);
        Assert.Equal("flaky", healthy.SelectedModel);
        Assert.Equal(ModelHealth.Healthy, healthy.Candidates[0].Health);
    }

    [Fact]
    public void Rate_limits_reserve_at_decision_time_and_settle_later()
    {
        var fixture = new RoutingFixture([
            RoutingFixture.Model("limited", 0.2, 0.9, 0, 0, rpm: 2, tpm: 1_500),
            RoutingFixture.Model("other", 3, 0.5, 0.01, 0.01),
        ]);
        var features = new RequestFeatures { EstimatedTokens = 400, OutputTokens = 200 };
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency, features).SelectedModel);
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency, features).SelectedModel);
        var third = fixture.Decide(RoutingStrategy.LowestLatency, features);
        Assert.Equal("other", third.SelectedModel);
        Assert.Contains("2 of 2 requests", third.Rejected.Single().Reason);

        fixture.Time.Advance(TimeSpan.FromSeconds(61));
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency, features).SelectedModel);
        fixture.Time.Advance(TimeSpan.FromSeconds(1));
        var tokens = fixture.Decide(RoutingStrategy.LowestLatency, features with { EstimatedTokens = 800 });
        Assert.Equal("other", tokens.SelectedModel);
        Assert.Contains("tokens", tokens.Rejected.Single().Reason);

        // The first request used far fewer tokens than it reserved: settling frees the rest.
        fixture.Engine.Settle("limited", 600, 100);
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency, features with { EstimatedTokens = 800 }).SelectedModel);
    }

    [Fact]
    public void A_silo_in_a_cluster_spends_only_its_lease_and_keeps_to_a_share_when_the_grain_is_unheard()
    {
        var limited = RoutingFixture.Model("limited", 0.2, 0.9, 0, 0, rpm: 3);
        var fixture = new RoutingFixture([limited, RoutingFixture.Model("other", 3, 0.5, 0.01, 0.01)]);
        var start = fixture.Time.GetUtcNow();
        // Joining a cluster, the silo holds nothing until it is granted a lease.
        fixture.Limits.AwaitLeases(start, silos: 2);
        var waiting = fixture.Decide(RoutingStrategy.LowestLatency);
        Assert.Equal("other", waiting.SelectedModel);
        Assert.Equal("rate limit: this silo's lease is spent (0 admitted here in the last minute; the cluster holds 0 of 3)", waiting.Rejected.Single().Reason);

        // It asks for what its demand needs (one refused request: at least one in hand) and spends what it is granted.
        var ask = Assert.Single(fixture.Limits.Asks([limited], start, TimeSpan.FromSeconds(2)));
        Assert.Equal((0L, 1L), (ask.HeldRequests, ask.WantedRequests));
        fixture.Limits.Apply([new RateLeaseGrant("limited", 2, 0, 3, 0, 2)], start, silos: 2);
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency).SelectedModel);
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency).SelectedModel);
        var spent = fixture.Decide(RoutingStrategy.LowestLatency);
        Assert.Equal("rate limit: this silo's lease is spent (2 admitted here in the last minute; the cluster holds 3 of 3)", spent.Rejected.Single().Reason);
        var state = fixture.Engine.State("silo-1").Models.Single(m => m.Model == "limited");
        Assert.Equal((2L, 3), (state.RequestsThisMinute, state.RequestsPerMinute));
        Assert.Equal(new RateLimitState(RateLimitMode.Lease, 2, 2 * 1_256, 0, null, 3, null, 2, 0), state.RateLimit);

        // Unheard for longer than LeaseStaleAfter: an even share over a sliding minute of its own admissions (3 / 2 = 1).
        fixture.Time.Advance(RateLimiter.LeaseStaleAfter + TimeSpan.FromSeconds(1));
        var shared = fixture.Decide(RoutingStrategy.LowestLatency);
        Assert.Equal("other", shared.SelectedModel);
        Assert.StartsWith("rate limit: 2 of 1 requests in the last minute (an even share among 2 silos", shared.Rejected.Single().Reason);
        Assert.Equal(RateLimitMode.Share, fixture.Engine.State("silo-1").Models.Single(m => m.Model == "limited").RateLimit!.Mode);
        fixture.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("limited", fixture.Decide(RoutingStrategy.LowestLatency).SelectedModel);
        Assert.StartsWith("rate limit: 1 of 1 requests in the last minute (an even share among 2 silos", fixture.Decide(RoutingStrategy.LowestLatency).Rejected.Single().Reason);
    }

    [Fact]
    public void The_router_state_shows_cooldowns_with_their_reason_and_end()
    {
        var fixture = new RoutingFixture();
        fixture.Snapshot.Apply([fixture.Stats("claude", 50, 1, errorRate: 0.1, consecutiveFailures: 5)]);
        var state = fixture.Engine.State("silo-1");
        var claude = state.Models.Single(m => m.Model == "claude");
        Assert.Equal((ModelHealth.CoolingDown, "5 consecutive failures"), (claude.Health, claude.Reason));
        Assert.Equal(fixture.Time.GetUtcNow() + fixture.Options.CooldownPeriod, claude.CoolingUntil);
        Assert.Equal(50, claude.Samples);
        Assert.All(state.Models.Where(m => m.Model != "claude"), m => Assert.Equal((ModelHealth.Healthy, null, 0L), (m.Health, m.Reason, m.Samples)));
        // The default catalog sets no limits: nothing is counted, and the view says so rather than show 0.
        Assert.All(state.Models, m => Assert.Equal((null, null, null, null), (m.RequestsThisMinute, m.RequestsPerMinute, m.TokensThisMinute, m.TokensPerMinute)));

        fixture.Time.Advance(fixture.Options.CooldownPeriod);
        Assert.Equal(ModelHealth.Probing, fixture.Engine.State("silo-1").Models.Single(m => m.Model == "claude").Health);
    }

    [Fact]
    public void Adaptive_weights_follow_the_request_and_confidence_follows_evidence_and_lead()
    {
        var balanced = RoutingWeights.For(RoutingStrategy.Balanced);
        var reasoning = ModelScorer.WeightsFor(RoutingStrategy.Adaptive, new RequestFeatures { ReasoningRequirement = 1 }, 100);
        var big = ModelScorer.WeightsFor(RoutingStrategy.Adaptive, new RequestFeatures(), 50_000);
        var urgent = ModelScorer.WeightsFor(RoutingStrategy.Adaptive, new RequestFeatures { MaxLatency = 1, Stream = true }, 100);
        Assert.True(reasoning.Quality > balanced.Quality + 0.1);
        Assert.True(big.Cost > balanced.Cost + 0.1);
        Assert.True(urgent.Latency > balanced.Latency + 0.1);
        Assert.Equal(1, reasoning.Latency + reasoning.Quality + reasoning.Cost, 9);

        var fixture = new RoutingFixture([RoutingFixture.Model("only", 1, 0.8, 0.01, 0.01)]);
        Assert.Equal(0.5, fixture.Decide(RoutingStrategy.Balanced).ConfidenceScore); // no evidence, nothing to beat
        var known = ThreeModels().Decide(RoutingStrategy.LowestLatency);
        Assert.InRange(known.ConfidenceScore, 0.9, 1.0);
    }

    [Fact]
    public void A_prompt_is_counted_with_the_tokenizer()
    {
        var decision = new RoutingFixture().Decide(RoutingStrategy.Balanced, new RequestFeatures { Prompt = "Explain quantum computing in one paragraph." });
        Assert.Equal(PromptTokens.Count("Explain quantum computing in one paragraph."), decision.EstimatedTokens);
        Assert.InRange(decision.EstimatedTokens, 5, 12);
    }

    [Fact]
    public void A_prompt_is_counted_with_each_models_encoding()
    {
        // o200k is the more frugal encoding for text outside English: the two counts differ here.
        const string prompt = "Объясни квантовые вычисления простыми словами. 量子コンピューターを説明してください。";
        var (o200k, cl100k) = (PromptTokens.Count(prompt), PromptTokens.Count(prompt, PromptTokens.Cl100k));
        Assert.True(cl100k > o200k, $"cl100k {cl100k}, o200k {o200k}");
        var fixture = new RoutingFixture();
        var features = new RequestFeatures { Prompt = prompt };
        Assert.Equal(cl100k, fixture.Decide(RoutingStrategy.Balanced, features, ["gpt-4"]).EstimatedTokens);
        Assert.Equal(o200k, fixture.Decide(RoutingStrategy.Balanced, features, ["claude"]).EstimatedTokens);
        // Each candidate's cost is for its own count.
        var both = fixture.Decide(RoutingStrategy.Balanced, features, ["gpt-4", "claude"]);
        var gpt4 = both.Candidates.Single(c => c.Model == "gpt-4");
        Assert.Equal((cl100k * 0.03 + 256 * 0.06) / 1000, gpt4.Cost.Value, 12);
        Assert.Equal((o200k * 0.003 + 256 * 0.015) / 1000, both.Candidates.Single(c => c.Model == "claude").Cost.Value, 12);
    }

    public static TheoryData<string, RoutingRequest> BadRequests => new()
    {
        { "request_features.creativity_requirement", new RoutingRequest(new RequestFeatures { CreativityRequirement = 1.5 }) },
        { "request_features.reasoning_requirement", new RoutingRequest(new RequestFeatures { ReasoningRequirement = -0.1 }) },
        { "request_features.estimated_tokens", new RoutingRequest(new RequestFeatures { EstimatedTokens = -1 }) },
        { "request_features.output_tokens", new RoutingRequest(new RequestFeatures { OutputTokens = 0 }) },
        { "request_features.max_latency", new RoutingRequest(new RequestFeatures { MaxLatency = 0 }) },
        { "request_features.max_cost", new RoutingRequest(new RequestFeatures { MaxCost = double.NaN }) },
        { "available_models", new RoutingRequest(new RequestFeatures(), []) },
        { "available_models[1]", new RoutingRequest(new RequestFeatures(), ["gpt-4", "no-such-model"]) },
        { "available_models[1]", new RoutingRequest(new RequestFeatures(), ["gpt-4", "gpt-4"]) },
        // Every name is checked before any is looked up: the repeat at [2] is the error, not the unknown name at [1].
        { "available_models[2]", new RoutingRequest(new RequestFeatures(), ["gpt-4", "nope", "gpt-4"]) },
        { "available_models[1]", new RoutingRequest(new RequestFeatures(), ["gpt-4", null!]) },
        { "strategy", new RoutingRequest(new RequestFeatures(), null, (RoutingStrategy)42) },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Bad_requests_name_the_field(string field, RoutingRequest request)
    {
        Assert.Equal(field, Assert.Throws<ArgumentException>(() => new RoutingFixture().Engine.Decide(request, RoutingFixture.Refuse)).ParamName);
    }

    [Fact]
    public void Of_two_probed_models_the_better_ranked_takes_the_decision()
    {
        var fixture = ThreeModels();
        Func<double> admit = RoutingFixture.Admit;
        fixture.Snapshot.Apply([fixture.Stats("fast", 100, 0.4, consecutiveFailures: 5), fixture.Stats("cheap", 100, 1.2, consecutiveFailures: 5), fixture.Stats("smart", 10_000, 3)]);
        fixture.Time.Advance(fixture.Options.CooldownPeriod);
        fixture.Snapshot.Apply([fixture.Stats("fast", 100, 0.4, consecutiveFailures: 5), fixture.Stats("cheap", 100, 1.2, consecutiveFailures: 5), fixture.Stats("smart", 10_000, 3)]);
        var decision = fixture.Decide(RoutingStrategy.LowestLatency, draw: admit);
        Assert.Equal(["fast", "cheap"], decision.Candidates.Where(c => c.Health == ModelHealth.Probing).Select(c => c.Model));
        Assert.Equal("fast", decision.SelectedModel);
    }

    [Fact]
    public void Recommendations_are_the_top_n_as_decisions_and_n_is_bounded()
    {
        var fixture = ThreeModels();
        var top = fixture.Engine.Recommend(new RoutingRequest(new RequestFeatures { EstimatedTokens = 1000 }, null, RoutingStrategy.LowestLatency), 2, RoutingFixture.Refuse);
        Assert.Equal(["fast", "cheap"], top.Select(d => d.SelectedModel));
        Assert.Equal("top_n", Assert.Throws<ArgumentException>(() =>
            fixture.Engine.Recommend(new RoutingRequest(new RequestFeatures()), 4, RoutingFixture.Refuse)).ParamName);
        Assert.Equal("top_n", Assert.Throws<ArgumentException>(() =>
            fixture.Engine.Recommend(new RoutingRequest(new RequestFeatures()), -1, RoutingFixture.Refuse)).ParamName);
    }

    [Fact]
    public void A_probed_model_takes_the_decision_and_after_recovering_one_failure_does_not_cool_it_again()
    {
        // "slow" would never rank first: as a probe it still gets its turn.
        var fixture = new RoutingFixture([RoutingFixture.Model("slow", 5, 0.5, 0.05, 0.05), RoutingFixture.Model("good", 0.5, 0.9, 0.001, 0.001)]);
        fixture.Snapshot.Apply([fixture.Stats("slow", 100, 8, errorRate: 0.9, consecutiveFailures: 1, successes: 10), fixture.Stats("good", 1_000, 0.6)]);
        Assert.Equal("good", fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Admit).SelectedModel); // the error rate cooled it

        fixture.Time.Advance(fixture.Options.CooldownPeriod + TimeSpan.FromSeconds(1));
        fixture.Snapshot.Apply([fixture.Stats("slow", 100, 8, errorRate: 0.9, consecutiveFailures: 1, successes: 10), fixture.Stats("good", 1_000, 0.6)]);
        var probe = fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Admit);
        Assert.Equal("slow", probe.SelectedModel);
        // It scores below the runner-up, so its confidence rests on evidence alone.
        Assert.Equal(0.5 * 100 / (100 + fixture.Options.PriorStrength), probe.ConfidenceScore, 3);

        // It succeeds, recovers, then fails once: its 5-minute error rate is still high, but that alone does not cool it again.
        fixture.Snapshot.Apply([fixture.Stats("slow", 100, 8, errorRate: 0.9, successes: 11), fixture.Stats("good", 1_000, 0.6)]);
        fixture.Snapshot.Apply([fixture.Stats("slow", 100, 8, errorRate: 0.9, consecutiveFailures: 1, successes: 11), fixture.Stats("good", 1_000, 0.6)]);
        var after = fixture.Decide(RoutingStrategy.Balanced, draw: RoutingFixture.Refuse);
        Assert.Empty(after.Rejected);
        Assert.Equal(ModelHealth.Healthy, after.Candidates.Single(c => c.Model == "slow").Health);
    }

    [Fact]
    public void Streaming_is_judged_on_ttft_with_its_own_sample_count()
    {
        var fixture = new RoutingFixture([RoutingFixture.Model("a", 1, 0.8, 0.01, 0.01)]);
        fixture.Snapshot.Apply([fixture.Stats("a", 10_000, 2.0, ttftSamples: 3)]);
        var decision = fixture.Decide(RoutingStrategy.LowestLatency, new RequestFeatures { Stream = true });
        var latency = decision.Candidates[0].Latency;
        Assert.Equal(3, latency.Samples);
        // 3 samples of TTFT 0.5 s against a prior of 0.4 s weighed as 20: (3 x 0.5 + 20 x 0.4) / 23.
        Assert.Equal((3 * 0.5 + 20 * 0.4) / 23, latency.Value, 9);
        Assert.Contains("time to first token", decision.Reasoning);
    }

    [Fact]
    public void Latency_cost_output_and_tools_bounds_filter_with_reasons()
    {
        var fixture = new RoutingFixture();
        var decision = fixture.Decide(RoutingStrategy.Balanced, new RequestFeatures { EstimatedTokens = 1000, MaxLatency = 2.0, RequiresTools = true });
        string Reason(RoutingDecision d, string model) => d.Rejected.Single(r => r.Model == model).Reason;
        Assert.Contains("max_latency", Reason(decision, "claude"));  // p95 prior 2.7 s
        Assert.Contains("max_latency", Reason(decision, "gpt-4"));   // 3.75 s
        Assert.Contains("tools", Reason(decision, "local-llama"));
        Assert.Equal(["gemini-pro", "gpt-3.5-turbo"], decision.Candidates.Select(c => c.Model).Order());
        var cheap = fixture.Decide(RoutingStrategy.Balanced, new RequestFeatures { EstimatedTokens = 1000, MaxCost = 0.01 });
        Assert.Contains("max_cost", Reason(cheap, "gpt-4"));        // 0.03 + 0.01536 for this request
        Assert.Equal(4, cheap.Candidates.Count);
        var tooLong = Assert.Throws<NoCandidateException>(() => fixture.Decide(RoutingStrategy.Balanced, new RequestFeatures { OutputTokens = 5_000 }));
        // Every chat model for its output limit; the embedding model for its kind.
        Assert.All(tooLong.Rejected.Where(r => fixture.Catalog.Find(r.Model)!.Kind == ModelKinds.Chat), r => Assert.Contains("output_tokens 5000 exceed its limit of 4096", r.Reason));
        Assert.Equal("serves embedding, not chat", tooLong.Rejected.Single(r => r.Model == "text-embedding-3-small").Reason);
        Assert.False(tooLong.Temporary);
    }

    [Fact]
    public void Summary_detail_keeps_the_top_two_rows_and_the_next_three_fallbacks()
    {
        var fixture = new RoutingFixture(Enumerable.Range(1, 6).Select(i => RoutingFixture.Model($"m{i}", i * 0.5, 0.8, 0.001, 0.002)));
        var request = new RoutingRequest(new RequestFeatures { EstimatedTokens = 1000 }, null, RoutingStrategy.LowestLatency);
        var summary = fixture.Engine.Decide(request with { Detail = RoutingDetail.Summary }, RoutingFixture.Refuse);
        Assert.Equal(["m1", "m2"], summary.Candidates.Select(c => c.Model));
        Assert.Equal(["m2", "m3", "m4"], summary.FallbackOrder);
        var full = fixture.Engine.Decide(request, RoutingFixture.Refuse);
        Assert.Equal(["m1", "m2", "m3", "m4", "m5", "m6"], full.Candidates.Select(c => c.Model));
        Assert.Equal(["m2", "m3", "m4", "m5", "m6"], full.FallbackOrder);
        var fewer = ThreeModels().Engine.Decide(request with { Detail = RoutingDetail.Summary }, RoutingFixture.Refuse);
        Assert.Equal(["cheap", "smart"], fewer.FallbackOrder);
    }

    [Fact]
    public void Refusals_for_health_or_rate_limits_alone_are_temporary()
    {
        var fixture = new RoutingFixture([RoutingFixture.Model("only", 1, 0.8, 0, 0, rpm: 1)]);
        fixture.Decide(RoutingStrategy.Balanced);
        var limited = Assert.Throws<NoCandidateException>(() => fixture.Decide(RoutingStrategy.Balanced));
        Assert.True(limited.Temporary);
        var unfit = Assert.Throws<NoCandidateException>(() => fixture.Decide(RoutingStrategy.Balanced, new RequestFeatures { RequiresVision = false, EstimatedTokens = 200_000 }));
        Assert.False(unfit.Temporary);
    }

    [Fact]
    public void Every_recommendation_leads_with_its_model_and_confidence_stays_within_0_and_1()
    {
        var fixture = ThreeModels();
        var all = fixture.Engine.Recommend(new RoutingRequest(new RequestFeatures { EstimatedTokens = 1000 }, null, RoutingStrategy.LowestLatency), 0, RoutingFixture.Refuse);
        Assert.Equal(["fast", "cheap", "smart"], all.Select(d => d.SelectedModel));
        Assert.All(all, d => Assert.InRange(d.ConfidenceScore, 0, 1));
        Assert.Equal(["fast", "cheap"], all[2].FallbackOrder);
        Assert.True(all[0].ConfidenceScore > all[2].ConfidenceScore);
    }
}
