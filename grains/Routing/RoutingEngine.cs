using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Gateway;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Routing;

/// <summary>Turns a request and this silo's snapshot into a decision: filters, scores, ranks, reserves, explains.</summary>
public sealed class RoutingEngine(
    ModelCatalog catalog, RoutingSnapshot snapshot, ModelHealthBook health, RateLimiter limits, IOptions<RoutingOptions> options, TimeProvider time)
{
    /// <summary>Recommendations given when the caller names no number.</summary>
    public const int DefaultTopN = 3;
    private readonly RoutingOptions _options = options.Value;

    /// <summary>The draw for probing shares, made once rather than as a delegate per decision.</summary>
    public static readonly Func<double> SharedDraw = Random.Shared.NextDouble;

    /// <param name="counted">The input already counted with each encoding (the gateway counts a conversation itself); else from the request.</param>
    public RoutingDecision Decide(RoutingRequest request, Func<double> draw, InputTokens? counted = null)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = KyrosTelemetry.Routing.StartActivity("route");
        try
        {
            var decision = DecideUntraced(request, draw, counted, started);
            Observe(decision, activity);
            return decision;
        }
        catch (Exception e) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, e.Message);
            activity.SetTag("error.type", e.GetType().Name);
            throw;
        }
    }

    /// <summary>The decision on the trace (strategy, choice, candidates) and in the meter.</summary>
    private static void Observe(RoutingDecision decision, Activity? activity)
    {
        var strategy = RoutingStrategies.Name(decision.Strategy);
        if (activity is not null)
        {
            activity.SetTag("kyros.routing.strategy", strategy);
            activity.SetTag("kyros.routing.model", decision.SelectedModel);
            activity.SetTag("kyros.routing.confidence", decision.ConfidenceScore);
            activity.SetTag("kyros.routing.rejected", decision.Rejected.Count);
        }
        if (KyrosTelemetry.Decisions.Enabled)
            KyrosTelemetry.Decisions.Add(1, new KeyValuePair<string, object?>("strategy", strategy), new KeyValuePair<string, object?>("model", decision.SelectedModel));
        if (KyrosTelemetry.DecisionDuration.Enabled)
            KyrosTelemetry.DecisionDuration.Record(decision.ComputeMicroseconds / 1e6, new KeyValuePair<string, object?>("strategy", strategy));
    }

    private RoutingDecision DecideUntraced(RoutingRequest request, Func<double> draw, InputTokens? counted, long started)
    {
        var work = RoutingScratch.Current;
        var (count, weights, tokens, now) = Evaluate(request, draw, work, counted);
        // The best candidate whose rate limit has room takes the decision and its reservation.
        var order = work.Order.AsSpan(0, count);
        var chosen = -1;
        for (var i = 0; i < count && chosen < 0; i++)
        {
            var model = work.Passing[order[i]].Model;
            var reserveTokens = tokens.For(model) + request.Features.OutputTokens;
            if (limits.TryReserve(model.Id, reserveTokens, model.RequestsPerMinute, model.TokensPerMinute, now) is { } limited)
                work.Rejected.Add(new RejectedCandidate(model.Id, limited));
            else
                chosen = i;
        }
        if (chosen < 0) throw NoCandidate(work.Rejected, permanent: 0);
        // Candidates above the chosen one were refused by their rate limits: they are out of this decision.
        return Build(request, work, order[chosen..], weights, tokens, now, Stopwatch.GetElapsedTime(started));
    }

    public IReadOnlyList<RoutingDecision> Recommend(RoutingRequest request, int topN, Func<double> draw)
    {
        var started = Stopwatch.GetTimestamp();
        var work = RoutingScratch.Current;
        var (count, weights, tokens, now) = Evaluate(request, draw, work, counted: null);
        if (topN == 0) topN = Math.Min(DefaultTopN, count);
        RoutingValidator.ValidateTopN(topN, count);
        var decisions = new RoutingDecision[topN];
        var order = new int[count];
        for (var i = 0; i < topN; i++)
        {
            // The i-th best first, then the others in their order.
            order[0] = work.Order[i];
            work.Order.AsSpan(0, i).CopyTo(order.AsSpan(1));
            work.Order.AsSpan(i + 1, count - i - 1).CopyTo(order.AsSpan(i + 1));
            decisions[i] = Build(request, work, order, weights, tokens, now, Stopwatch.GetElapsedTime(started));
        }
        return decisions;
    }

    /// <summary>This silo's router as an operator sees it: every catalog model's health, rate-limit lease and use, and statistics.</summary>
    public RouterState State(string silo)
    {
        var now = time.GetUtcNow();
        var view = catalog.Current;
        var table = snapshot.StatsFor(view);
        var models = new ModelRoutingState[view.Models.Count];
        for (var i = 0; i < models.Length; i++)
        {
            var model = view.Models[i];
            var (state, reason, until) = health.Describe(model.Id, now);
            var limit = limits.StateOf(model.Id, model.RequestsPerMinute, model.TokensPerMinute, now);
            var stats = table[i];
            models[i] = new ModelRoutingState(model.Id, state, reason, until, limit?.SiloRequests, model.RequestsPerMinute, limit?.SiloTokens, model.TokensPerMinute,
                stats?.Samples ?? 0, stats is null ? null : Math.Max(0, (now - stats.ComputedAt).TotalSeconds),
                model.Hosts.Count > 0 ? snapshot.LeastAlertedHost(model.Hosts) : Resources.AlertLevel.None, limit);
        }
        return new RouterState(silo, SnapshotAge(now), models);
    }

    /// <summary>The timeout a call to this model gets: tuned from its observed latency, or the catalog's.</summary>
    public double TimeoutSecondsOf(ModelDescriptor model) => snapshot.TimeoutSecondsOf(model);

    /// <summary>Reserves a request and its tokens against a model's limits (a fallback the decision did not reserve); the reason when spent.</summary>
    public string? Reserve(ModelDescriptor model, long tokens) =>
        limits.TryReserve(model.Id, tokens, model.RequestsPerMinute, model.TokensPerMinute, time.GetUtcNow());

    /// <summary>Settles a reservation made at <paramref name="reservedAt"/>: the gateway knows when; null for a caller that does not.</summary>
    public void Settle(ModelDescriptor model, long reservedTokens, long actualTokens, DateTimeOffset? reservedAt)
    {
        if (IsLimited(model)) limits.Settle(model.Id, reservedTokens, actualTokens, time.GetUtcNow(), reservedAt);
    }

    /// <summary>A settlement from outside the silo (the SDK): checked first.</summary>
    public void Settle(string model, long reservedTokens, long actualTokens)
    {
        var known = catalog.EnsureKnown(model);
        RoutingValidator.ValidateSettlement(reservedTokens, actualTokens);
        Settle(known, reservedTokens, actualTokens, reservedAt: null);
    }

    /// <summary>Only a model with a limit has its use counted (and a settlement to make).</summary>
    private static bool IsLimited(ModelDescriptor model) => model is { RequestsPerMinute: not null } or { TokensPerMinute: not null };

    /// <summary>Filters and ranks the candidates into <paramref name="work"/>; the count that passed, best first in <see cref="RoutingScratch.Order"/>.</summary>
    private (int Count, RoutingWeights Weights, InputTokens Tokens, DateTimeOffset Now) Evaluate(RoutingRequest request, Func<double> draw, RoutingScratch work,
        InputTokens? counted)
    {
        RoutingValidator.Validate(request, checkCandidateNames: false);
        var features = request.Features;
        // One version of the catalog for the whole decision: a change made meanwhile is the next decision's.
        var view = catalog.Current;
        var stats = snapshot.StatsFor(view);
        var penalties = snapshot.PenaltiesFor(view);
        var candidates = Resolve(request.Candidates, view, work);
        var tokens = counted ?? InputTokens.Of(features, view.Models, candidates);
        var now = time.GetUtcNow();
        var allHealthy = health.AllHealthy;
        var permanent = 0;
        foreach (var index in candidates)
        {
            var model = view.Models[index];
            var modelTokens = tokens.For(model);
            var reason = Lacks(model, features, modelTokens);
            CandidateFigures figures = default;
            if (reason is null)
            {
                figures = ModelScorer.Figures(model, stats[index], features, modelTokens, _options.PriorStrength, now);
                reason = ModelScorer.Exceeds(figures, features);
            }
            if (reason is not null)
            {
                permanent++;
                work.Rejected.Add(new RejectedCandidate(model.Id, reason));
                continue;
            }
            if (model.Hosts.Count > 0) figures = figures with { HostAlert = snapshot.LeastAlertedHost(model.Hosts) };
            if (penalties[index] is > 0 and var penalty) figures = figures with { Penalty = penalty };
            // Health last: a model refused for it alone may pass the same request later.
            if (allHealthy)
            {
                work.Passing.Add(figures);
                continue;
            }
            var (admitted, state, healthReason) = health.Admit(model.Id, now, draw());
            if (admitted) work.Passing.Add(figures with { Health = state });
            else work.Rejected.Add(new RejectedCandidate(model.Id, healthReason!));
        }
        var count = work.Passing.Count;
        if (count == 0) throw NoCandidate(work.Rejected, permanent);
        var weights = ModelScorer.WeightsFor(request.Strategy, features, tokens.Largest, snapshot.Tuning.AdaptiveBase);
        ModelScorer.Rank(CollectionsMarshal.AsSpan(work.Passing), weights, request.Strategy == RoutingStrategy.Adaptive,
            work.Scores.AsSpan(0, count), work.Order.AsSpan(0, count), work.Values.AsSpan(0, 2 * count));
        return (count, weights, tokens, now);
    }

    /// <summary>The candidates' catalog indices (the whole catalog when none are named); an unknown or repeated name is refused.</summary>
    private static ReadOnlySpan<int> Resolve(IReadOnlyList<string>? names, CatalogView view, RoutingScratch work)
    {
        var models = view.Models.Count;
        // A list longer than the catalog must repeat or misname a model, which is found within the first `models` names.
        work.Reset(Math.Min(names?.Count ?? models, models), models);
        var indices = work.Candidates;
        if (names is null)
        {
            for (var i = 0; i < models; i++) indices[i] = i;
            return indices.AsSpan(0, models);
        }
        // Each decision stamps the models it has seen: a repeat is found without hashing any name twice.
        var stamp = work.NextStamp();
        for (var i = 0; i < names.Count; i++)
        {
            var index = view.IndexOf(names[i]);
            if (index < 0 || work.Seen[index] == stamp)
            {
                // The same error, for the same name, as a client that checks the list first would give.
                RoutingValidator.CheckCandidateNames(names);
                throw new ArgumentException($"available_models[{i}] '{names[i]}' is not in the model catalog.", $"available_models[{i}]");
            }
            work.Seen[index] = stamp;
            indices[i] = index;
        }
        return indices.AsSpan(0, names.Count);
    }

    private static string? Lacks(ModelDescriptor model, RequestFeatures features, long tokens)
    {
        if (features.RequiresVision && !model.Capabilities.Vision) return "requires vision, which it lacks";
        if (features.RequiresCode && !model.Capabilities.Code) return "requires code, which it lacks";
        if (features.RequiresTools && !model.Capabilities.Tools) return "requires tools, which it lacks";
        if (features.RequiresStructuredOutput && !model.Capabilities.StructuredOutput) return "requires structured_output, which it lacks";
        if (model.Kind != features.Kind) return $"serves {model.Kind}, not {features.Kind}";
        if (ProviderSupport.Lacks(model.Provider, features.ProviderNeeds) is { } field) return $"its provider ({model.Provider}) does not take {field}";
        if (features.OutputTokens > model.MaxOutputTokens)
            return $"output_tokens {features.OutputTokens} exceed its limit of {model.MaxOutputTokens}";
        // An embedding request's inputs are embedded one by one: the gateway holds each to the window, not their sum.
        if (features.Kind != ModelKinds.Embedding && tokens + features.OutputTokens > model.ContextWindow)
            return $"{tokens} input + {features.OutputTokens} output tokens exceed its context window of {model.ContextWindow}";
        return null;
    }

    /// <summary>The decision for <paramref name="order"/> (indices into the work's candidates, the chosen one first); it shares no buffer with the work.</summary>
    private RoutingDecision Build(RoutingRequest request, RoutingScratch work, ReadOnlySpan<int> order, RoutingWeights weights, InputTokens tokens,
        DateTimeOffset now, TimeSpan compute)
    {
        var passing = CollectionsMarshal.AsSpan(work.Passing);
        ref readonly var bestFigures = ref passing[order[0]];
        var best = work.Scores[order[0]];
        var confidence = ModelScorer.Confidence(bestFigures, best.Score, order.Length > 1 ? work.Scores[order[1]].Score : null, _options.PriorStrength);
        var snapshotAge = SnapshotAge(now);
        // A summary shows the chosen candidate, the runner-up and a few fallbacks; the full detail shows every candidate.
        var full = request.Detail == RoutingDetail.Full;
        var fallback = new string[full ? order.Length - 1 : Math.Min(order.Length - 1, RoutingDecision.SummaryFallbacks)];
        for (var i = 0; i < fallback.Length; i++) fallback[i] = passing[order[i + 1]].Model.Id;
        var table = new CandidateScore[full ? order.Length : Math.Min(2, order.Length)];
        for (var i = 0; i < table.Length; i++) table[i] = work.Scores[order[i]].ToScore(passing[order[i]]);
        var runnerUp = table.Length > 1 ? table[1] : null;
        // 128 random bits name a decision uniquely; a decision id is no secret, so the fast generator serves.
        return new RoutingDecision($"dec_{Random.Shared.NextInt64():x16}{Random.Shared.NextInt64():x16}", table[0].Model, request.Strategy, confidence,
            Explain(work.Text, request.Strategy, weights, table[0], runnerUp, work.Rejected.Count, request.Features.Stream), weights,
            table, work.Rejected.Count == 0 ? [] : work.Rejected.ToArray(), fallback, tokens.For(bestFigures.Model), snapshotAge, compute.TotalMicroseconds);
    }

    private double SnapshotAge(DateTimeOffset now) => snapshot.RefreshedAt == DateTimeOffset.MinValue ? -1 : (now - snapshot.RefreshedAt).TotalSeconds;

    private static string Explain(StringBuilder text, RoutingStrategy strategy, RoutingWeights w, CandidateScore best, CandidateScore? runnerUp, int rejected, bool stream)
    {
        var c = CultureInfo.InvariantCulture;
        text.Clear();
        var measure = stream ? "time to first token" : "latency";
        text.Append(c, $"{best.Model} scores {best.Score:0.000} under {RoutingStrategies.Name(strategy)} (latency {w.Latency:0.00}, quality {w.Quality:0.00}, cost {w.Cost:0.00}): ");
        if (best.Latency.Samples == 0) text.Append(c, $"an expected p95 {measure} of {best.Latency.Value:0.###} s from the catalog (no live samples yet)");
        else text.Append(c, $"a p95 {measure} of {best.Latency.Value:0.###} s over {best.Latency.Samples} recent requests ({SourceName(best.Latency.Source)})");
        text.Append(c, $", quality {best.Quality.Value:0.00}, about {best.Cost.Value:0.######} for this request, error rate {best.ErrorRate.Value:P1}");
        if (runnerUp is not null) text.Append(c, $"; ahead of {runnerUp.Model} ({runnerUp.Score:0.000})");
        if (rejected > 0) text.Append(c, $"; {rejected} candidate{(rejected == 1 ? "" : "s")} filtered out");
        if (best.Health == ModelHealth.Probing) text.Append("; it is being probed after a cooldown");
        if (strategy == RoutingStrategy.Adaptive && best.HostAlert != Resources.AlertLevel.None)
            text.Append(c, $"; its hosts all have {Resources.AlertLevels.Name(best.HostAlert)} alerts, which cut its score to {ModelScorer.HostFactor(best.HostAlert):0.##}x");
        else if (strategy == RoutingStrategy.Adaptive && runnerUp is { HostAlert: not Resources.AlertLevel.None })
            text.Append(c, $"; {runnerUp.Model}'s hosts have {Resources.AlertLevels.Name(runnerUp.HostAlert)} alerts");
        return text.Append('.').ToString();
    }

    private static string SourceName(EvidenceSource source) => source switch
    {
        EvidenceSource.Prior => "prior",
        EvidenceSource.Blended => "blended",
        EvidenceSource.Live => "live",
        _ => "catalog",
    };

    /// <summary>Temporary when no candidate was refused for what it is, only for its health or its rate limit.</summary>
    private static NoCandidateException NoCandidate(List<RejectedCandidate> rejected, int permanent) =>
        new($"No candidate passes the filters: {string.Join("; ", rejected.Select(r => $"{r.Model}: {r.Reason}"))}.", rejected.ToArray(), temporary: permanent == 0);
}
