using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Catalog;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Routing;

/// <summary>Turns a request and this silo's snapshot into a decision: filters, scores, ranks, reserves, explains.</summary>
public sealed class RoutingEngine(
    ModelCatalog catalog, RoutingSnapshot snapshot, ModelHealthBook health, RateLimiter limits, IOptions<RoutingOptions> options, TimeProvider time)
{
    /// <summary>Recommendations given when the caller names no number.</summary>
    public const int DefaultTopN = 3;
    private readonly RoutingOptions _options = options.Value;

    public RoutingDecision Decide(RoutingRequest request, Func<double> draw)
    {
        var started = Stopwatch.GetTimestamp();
        var (ranked, rejected, weights, tokens, now, permanentRejections) = Evaluate(request, draw);
        // The best candidate whose rate limit has room takes the decision and its reservation.
        var reserveTokens = tokens + request.Features.OutputTokens;
        var chosen = -1;
        for (var i = 0; i < ranked.Count && chosen < 0; i++)
        {
            var model = ranked[i].Figures.Model;
            if (limits.TryReserve(model.Id, reserveTokens, model.RequestsPerMinute, model.TokensPerMinute, now) is { } limited)
                rejected.Add(new RejectedCandidate(model.Id, limited));
            else
                chosen = i;
        }
        if (chosen < 0) throw NoCandidate(rejected, permanent: ranked.Count == 0 ? permanentRejections : 0);
        // Candidates above the chosen one were refused by their rate limits: they are out of this decision.
        if (chosen > 0) ranked.RemoveRange(0, chosen);
        return Build(request, ranked, rejected, weights, tokens, Stopwatch.GetElapsedTime(started));
    }

    public IReadOnlyList<RoutingDecision> Recommend(RoutingRequest request, int topN, Func<double> draw)
    {
        var started = Stopwatch.GetTimestamp();
        var (ranked, rejected, weights, tokens, _, _) = Evaluate(request, draw);
        if (topN == 0) topN = Math.Min(DefaultTopN, ranked.Count);
        RoutingValidator.ValidateTopN(topN, ranked.Count);
        return Enumerable.Range(0, topN).Select(i =>
        {
            // The i-th best first, then the others in their order.
            var order = new List<RankedCandidate>(ranked.Count) { ranked[i] };
            order.AddRange(ranked.Where((_, j) => j != i));
            return Build(request, order, rejected, weights, tokens, Stopwatch.GetElapsedTime(started));
        }).ToArray();
    }

    /// <summary>Reserves a request and its tokens against a model's limits (a fallback the decision did not reserve); the reason when spent.</summary>
    public string? Reserve(string model, long tokens)
    {
        var m = catalog.Find(model) ?? throw new ArgumentException($"model '{model}' is not in the model catalog.", "model");
        return limits.TryReserve(m.Id, tokens, m.RequestsPerMinute, m.TokensPerMinute, time.GetUtcNow());
    }

    /// <summary>Settles a reservation made at <paramref name="reservedAt"/> (the gateway knows when).</summary>
    public void Settle(string model, long reservedTokens, long actualTokens, DateTimeOffset reservedAt) =>
        limits.Settle(model, reservedTokens, actualTokens, time.GetUtcNow(), reservedAt);

    public void Settle(string model, long reservedTokens, long actualTokens)
    {
        catalog.EnsureKnown(model);
        if (reservedTokens is < 0 or > RoutingValidator.MaxTokens)
            throw new ArgumentException($"reserved_tokens must be within 0..{RoutingValidator.MaxTokens}.", "reserved_tokens");
        if (actualTokens is < 0 or > RoutingValidator.MaxTokens)
            throw new ArgumentException($"actual_tokens must be within 0..{RoutingValidator.MaxTokens}.", "actual_tokens");
        limits.Settle(model, reservedTokens, actualTokens, time.GetUtcNow());
    }

    private (List<RankedCandidate> Ranked, List<RejectedCandidate> Rejected, RoutingWeights Weights, long Tokens, DateTimeOffset Now, int Permanent) Evaluate(
        RoutingRequest request, Func<double> draw)
    {
        RoutingValidator.Validate(request);
        var features = request.Features;
        var candidates = Resolve(request.Candidates);
        var tokens = features.EstimatedTokens ?? (features.Prompt is null ? 0 : PromptTokens.Count(features.Prompt));
        var now = time.GetUtcNow();
        var stats = snapshot.Stats;
        var rejected = new List<RejectedCandidate>();
        var permanent = 0;
        var passing = new List<CandidateFigures>(candidates.Count);
        foreach (var model in candidates)
        {
            var reason = Lacks(model, features, tokens);
            CandidateFigures? figures = null;
            if (reason is null)
            {
                figures = ModelScorer.Figures(model, stats.GetValueOrDefault(model.Id), features, tokens, _options.PriorStrength, now, ModelHealth.Healthy);
                reason = ModelScorer.Exceeds(figures, features);
            }
            if (reason is not null)
            {
                permanent++;
                rejected.Add(new RejectedCandidate(model.Id, reason));
                continue;
            }
            // Health last: a model refused for it alone may pass the same request later.
            var (admitted, state, healthReason) = health.Admit(model.Id, now, draw());
            if (state != ModelHealth.Healthy) figures = figures! with { Health = state };
            if (model.Hosts.Count > 0) figures = figures! with { HostAlert = snapshot.LeastAlertedHost(model.Hosts) };
            if (admitted) passing.Add(figures!);
            else rejected.Add(new RejectedCandidate(model.Id, healthReason!));
        }
        if (passing.Count == 0) throw NoCandidate(rejected, permanent);
        var weights = ModelScorer.WeightsFor(request.Strategy, features, tokens);
        return (ModelScorer.Rank(passing, weights, request.Strategy == RoutingStrategy.Adaptive), rejected, weights, tokens, now, permanent);
    }

    private IReadOnlyList<ModelDescriptor> Resolve(IReadOnlyList<string>? names)
    {
        if (names is null) return catalog.Models;
        var models = new ModelDescriptor[names.Count];
        for (var i = 0; i < names.Count; i++)
            models[i] = catalog.Find(names[i]) ?? throw new ArgumentException(
                $"available_models[{i}] '{names[i]}' is not in the model catalog.", $"available_models[{i}]");
        return models;
    }

    private static string? Lacks(ModelDescriptor model, RequestFeatures features, long tokens)
    {
        if (features.RequiresVision && !model.Capabilities.Vision) return "requires vision, which it lacks";
        if (features.RequiresCode && !model.Capabilities.Code) return "requires code, which it lacks";
        if (features.RequiresTools && !model.Capabilities.Tools) return "requires tools, which it lacks";
        if (features.OutputTokens > model.MaxOutputTokens)
            return $"output_tokens {features.OutputTokens} exceed its limit of {model.MaxOutputTokens}";
        if (tokens + features.OutputTokens > model.ContextWindow)
            return $"{tokens} input + {features.OutputTokens} output tokens exceed its context window of {model.ContextWindow}";
        return null;
    }

    private RoutingDecision Build(RoutingRequest request, List<RankedCandidate> order, List<RejectedCandidate> rejected,
        RoutingWeights weights, long tokens, TimeSpan compute)
    {
        var confidence = ModelScorer.Confidence(order, _options.PriorStrength);
        var snapshotAge = snapshot.RefreshedAt == DateTimeOffset.MinValue ? -1 : (time.GetUtcNow() - snapshot.RefreshedAt).TotalSeconds;
        var fallback = new string[order.Count - 1];
        for (var i = 1; i < order.Count; i++) fallback[i - 1] = order[i].Model;
        // Score rows only for what the decision shows: every candidate in full, the chosen one and the runner-up in summary.
        var table = new CandidateScore[request.Detail == RoutingDetail.Full ? order.Count : Math.Min(2, order.Count)];
        for (var i = 0; i < table.Length; i++) table[i] = order[i].ToScore();
        var best = table[0];
        var runnerUp = table.Length > 1 ? table[1] : null;
        return new RoutingDecision($"dec_{Guid.NewGuid():N}", best.Model, request.Strategy, confidence,
            Explain(request.Strategy, weights, best, runnerUp, rejected.Count, request.Features.Stream), weights,
            table, rejected, fallback, tokens, snapshotAge, compute.TotalMicroseconds);
    }

    private static string Explain(RoutingStrategy strategy, RoutingWeights w, CandidateScore best, CandidateScore? runnerUp, int rejected, bool stream)
    {
        var c = CultureInfo.InvariantCulture;
        var latency = best.Latency.Samples == 0
            ? string.Create(c, $"an expected p95 {(stream ? "time to first token" : "latency")} of {best.Latency.Value:0.###} s from the catalog (no live samples yet)")
            : string.Create(c, $"a p95 {(stream ? "time to first token" : "latency")} of {best.Latency.Value:0.###} s over {best.Latency.Samples} recent requests ({best.Latency.Source.ToString().ToLowerInvariant()})");
        var text = string.Create(c,
            $"{best.Model} scores {best.Score:0.000} under {RoutingStrategies.Name(strategy)} (latency {w.Latency:0.00}, quality {w.Quality:0.00}, cost {w.Cost:0.00}): {latency}, quality {best.Quality.Value:0.00}, about {best.Cost.Value:0.######} for this request, error rate {best.ErrorRate.Value:P1}");
        if (runnerUp is not null) text += string.Create(c, $"; ahead of {runnerUp.Model} ({runnerUp.Score:0.000})");
        if (rejected > 0) text += string.Create(c, $"; {rejected} candidate{(rejected == 1 ? "" : "s")} filtered out");
        if (best.Health == ModelHealth.Probing) text += "; it is being probed after a cooldown";
        if (strategy == RoutingStrategy.Adaptive && best.HostAlert != Resources.AlertLevel.None)
            text += string.Create(c, $"; its hosts all have {best.HostAlert.ToString().ToLowerInvariant()} alerts, which cut its score to {ModelScorer.HostFactor(best.HostAlert):0.##}x");
        else if (strategy == RoutingStrategy.Adaptive && runnerUp is { HostAlert: not Resources.AlertLevel.None })
            text += string.Create(c, $"; {runnerUp.Model}'s hosts have {runnerUp.HostAlert.ToString().ToLowerInvariant()} alerts");
        return text + ".";
    }

    /// <summary>Temporary when no candidate was refused for what it is, only for its health or its rate limit.</summary>
    private static NoCandidateException NoCandidate(List<RejectedCandidate> rejected, int permanent) =>
        new($"No candidate passes the filters: {string.Join("; ", rejected.Select(r => $"{r.Model}: {r.Reason}"))}.", rejected, temporary: permanent == 0);
}
