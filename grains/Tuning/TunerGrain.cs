using System.Diagnostics;
using Kyros.Perf.Alerts;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Resources;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Tuning;

/// <summary>
/// The cluster's tuner. Thin: it gathers what the rules read, gates and applies their proposals, judges applied changes
/// after <see cref="TuningConfiguration.EvaluationMinutes"/>, and records every step (grain state, SQLite history, the
/// alert stream as info). Its timer checks every <see cref="TuningOptions.TickInterval"/> whether a cycle is due; the schedule
/// lives in grain state, so when the tuner's silo dies the next activation (every silo's routing snapshot asks for the
/// overrides twice a second) carries it on. Calls are not interleaved, so a cycle never runs twice at once.
/// </summary>
public sealed class TunerGrain(
    [PersistentState("tuner", KyrosStorage.Name)] IPersistentState<TunerState> state,
    ModelCatalog catalog,
    SqliteHistoryStore history,
    ClusterHistory clusterHistory,
    TimeProvider time,
    IOptions<TuningOptions> options,
    ILocalSiloDetails silo,
    ILogger<TunerGrain> logger) : Grain, ITunerGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private static readonly TimeSpan SummaryWindow = TimeSpan.FromHours(1);
    private IAsyncStream<AlertEvent> _stream = null!;
    private TuningOverrides _overrides = TuningOverrides.None;

    private TuningConfiguration Configuration => state.State.Configuration ?? options.Value.ToConfiguration();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = this.GetStreamProvider(AlertStreams.Provider).GetStream<AlertEvent>(StreamId.Create(AlertStreams.Namespace, AlertStreams.All));
        if (state.State.FirstSeen is null)
        {
            state.State.FirstSeen = time.GetUtcNow();
            await state.WriteStateAsync(cancellationToken);
        }
        _overrides = BuildOverrides();
        this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions(options.Value.TickInterval, options.Value.TickInterval) { KeepAlive = true });
    }

    private DateTimeOffset NextCycle => (state.State.LastCycle ?? state.State.FirstSeen ?? time.GetUtcNow()) + Configuration.Interval;

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (!Configuration.Enabled || time.GetUtcNow() < NextCycle) return;
        try
        {
            await RunCycleAsync();
        }
        catch (Exception exception)
        {
            // The next tick tries again; a cycle that cannot read the cluster changes nothing.
            logger.LogWarning(exception, "Tuning cycle failed");
        }
    }

    public Task<TuningStatusReport> GetStatusAsync()
    {
        var c = Configuration;
        var recommendations = state.State.Recommendations;
        return Task.FromResult(new TuningStatusReport(c, state.State.LastCycle, c.Enabled ? NextCycle : null,
            [.. recommendations.Where(r => r.Status == TuningStatus.Applied)],
            [.. recommendations.AsEnumerable().Reverse().Take(20)],
            _overrides, silo.SiloAddress.ToString(), state.State.Cycles));
    }

    public Task<TuningOverrides> GetOverridesAsync() => Task.FromResult(_overrides);

    public async Task<TuningConfiguration> UpdateConfigurationAsync(TuningConfigurationUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var next = update.ApplyTo(Configuration);
        state.State.Configuration = next;
        await state.WriteStateAsync();
        logger.LogInformation("Tuning configuration changed: {Configuration}", next);
        return next;
    }

    public Task<IReadOnlyList<TuningRecommendation>> GetRecommendationsAsync(TuningQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Limit is < 1 or > 1000) throw new ArgumentException("limit must be within 1..1000.", "limit");
        IReadOnlyList<TuningRecommendation> found = [.. state.State.Recommendations.AsEnumerable().Reverse()
            .Where(r => (query.Status is null || r.Status == query.Status) && (query.Target is null || r.Target == query.Target)
                        && (query.Since is null || r.CreatedAt >= query.Since))
            .Take(query.Limit)];
        return Task.FromResult(found);
    }

    public Task<IReadOnlyList<TuningHistoryEntry>> GetHistoryAsync(DateTimeOffset from, DateTimeOffset to)
    {
        if (from > to) throw new ArgumentException("from must not be after to.", "from");
        return clusterHistory.TuningAsync(from, to, 10_000);
    }

    public async Task<TuningCycleResult> RunCycleAsync()
    {
        var started = time.GetTimestamp();
        var c = Configuration;
        var (inputs, hosts, calls) = await GatherAsync(c);
        var now = inputs.Now;
        var changes = new List<TuningRecommendation>();

        // 1. Judge the changes whose evaluation is over.
        var evaluated = new List<TuningRecommendation>();
        foreach (var applied in state.State.Recommendations.Where(r => r.Status == TuningStatus.Applied && r.AppliedAt + c.Evaluation <= now).ToList())
        {
            var judged = await JudgeAsync(applied, inputs, c, now);
            evaluated.Add(judged);
            changes.Add(judged);
        }

        // 2. Propose; a newer proposal replaces an older one still waiting on the same target, unless it proposes the same
        // change, which then keeps waiting as it is (a steady finding is not re-announced every cycle).
        var proposals = ThresholdRule.Propose(inputs).Concat(ModelAlertRuleRule.Propose(inputs)).Concat(TimeoutRule.Propose(inputs)).Concat(DegradationRule.Propose(inputs))
            .Concat(AdaptiveWeightRule.Propose(inputs) is { } weights ? [weights] : []).ToList();
        var fresh = new List<TuningRecommendation>();
        var waiting = new Dictionary<string, TuningRecommendation>(StringComparer.Ordinal);
        foreach (var r in state.State.Recommendations.Where(r => r.Status is TuningStatus.Proposed or TuningStatus.Applied))
            if (!waiting.TryGetValue(r.Target, out var other) || other.Status != TuningStatus.Applied) waiting[r.Target] = r;
        foreach (var p in proposals)
        {
            if (waiting.TryGetValue(p.Target, out var old))
            {
                if (old.Status == TuningStatus.Applied) continue;
                if (old.Action == p.Action && old.RecommendedValue == p.RecommendedValue && old.RecommendedWeights == p.RecommendedWeights)
                {
                    fresh.Add(old);
                    continue;
                }
                changes.Add(Replace(old with { Status = TuningStatus.Expired, DecidedAt = now, Outcome = "replaced by a newer recommendation" }));
            }
            var r = ToRecommendation(p, now);
            state.State.Recommendations.Add(r);
            waiting[r.Target] = r;
            fresh.Add(r);
            changes.Add(r);
        }

        // 3. Apply what passes the gates, within the slots left.
        var underEvaluation = state.State.Recommendations.Where(r => r.Status == TuningStatus.Applied).ToList();
        foreach (var r in TuningGates.Choose(fresh, underEvaluation, c, TuningGates.Held(state.State.Recommendations, now, c)))
        {
            var applied = await ApplyChangeAsync(r, "tuner", now);
            changes.Add(applied);
            fresh[fresh.FindIndex(f => f.Id == r.Id)] = applied;
        }

        state.State.LastCycle = now;
        state.State.Cycles++;
        Trim();
        await PersistAsync(changes);
        var result = new TuningCycleResult(now, time.GetElapsedTime(started).TotalMilliseconds, inputs.Models.Count, hosts, calls, fresh, evaluated);
        logger.LogInformation("Tuning cycle: {Models} models, {Hosts} hosts, {Proposed} proposed, {Evaluated} judged in {Ms:0} ms",
            inputs.Models.Count, hosts, fresh.Count, evaluated.Count, result.DurationMs);
        return result;
    }

    public async Task<TuningRecommendation> ApplyAsync(string id)
    {
        var r = Find(id);
        if (r.Status != TuningStatus.Proposed)
            throw new RecommendationStateException($"Recommendation {id} is {TuningStatuses.Name(r.Status)}: only a proposed one can be applied.");
        if (!TuningGates.IsApplicable(r.Action)) throw new RecommendationStateException($"Recommendation {id} is a report: it has nothing to apply.");
        if (state.State.Recommendations.Any(o => o.Target == r.Target && o.Status == TuningStatus.Applied))
            throw new RecommendationStateException($"{r.Target} already has a change under evaluation: roll it back or wait for it to be kept.");
        var applied = await ApplyChangeAsync(r, "operator", time.GetUtcNow());
        await PersistAsync([applied]);
        return applied;
    }

    public async Task<TuningRecommendation> RejectAsync(string id)
    {
        var r = Find(id);
        if (r.Status != TuningStatus.Proposed)
            throw new RecommendationStateException($"Recommendation {id} is {TuningStatuses.Name(r.Status)}: only a proposed one can be rejected.");
        var rejected = Replace(r with { Status = TuningStatus.Rejected, DecidedAt = time.GetUtcNow(), Outcome = "rejected by an operator" });
        await PersistAsync([rejected]);
        return rejected;
    }

    public async Task<TuningRecommendation> RollbackAsync(string id)
    {
        var r = Find(id);
        if (r.Status is not (TuningStatus.Applied or TuningStatus.Kept))
            throw new RecommendationStateException($"Recommendation {id} is {TuningStatuses.Name(r.Status)}: only an applied or kept one can be rolled back.");
        var rolledBack = await UndoAsync(r, "rolled back by an operator", null, time.GetUtcNow());
        await PersistAsync([rolledBack]);
        return rolledBack;
    }

    private TuningRecommendation Find(string id)
    {
        TuningValidator.RequireId(id);
        return state.State.Recommendations.FirstOrDefault(r => r.Id == id)
               ?? throw new RecommendationNotFoundException($"No recommendation has id '{id}'.");
    }

    private async Task<(TuningInputs Inputs, int Hosts, int Calls)> GatherAsync(TuningConfiguration c)
    {
        var now = time.GetUtcNow();
        var lookback = TuningInputs.Lookback(c);
        var router = GrainFactory.GetGrain<IRouterGrain>(0).GetStateAsync();
        var alerts = GrainFactory.GetGrain<IAlertLogGrain>(0).QueryAsync(new AlertQuery(Since: now - lookback, Limit: 10_000));
        var modelRules = GrainFactory.GetGrain<IModelAlertRulesGrain>(0).GetAsync();
        var nodes = await GrainFactory.GetGrain<IResourceDirectoryGrain>(0).GetNodesAsync();
        // Models in batches, each followed by a pause in proportion to it: a cycle over a large catalog spreads its reads
        // so that the statistics grains keep serving the records that arrive meanwhile.
        var models = new List<(ModelDescriptor Model, ModelSummary Summary, IReadOnlyList<ModelMinute> Minutes)>(catalog.Models.Count);
        var batches = catalog.Models.Chunk(options.Value.GatherBatch).ToArray();
        for (var b = 0; b < batches.Length; b++)
        {
            var batch = batches[b];
            var started = time.GetTimestamp();
            models.AddRange(await Task.WhenAll(batch.Select(async m =>
            {
                var grain = GrainFactory.GetGrain<IModelStatsGrain>(m.Id);
                var summary = grain.GetSummaryAsync(SummaryWindow);
                var minutes = grain.GetMinutesAsync(lookback);
                return (m, await summary, await minutes);
            })));
            if (b < batches.Length - 1 && options.Value.GatherPacing > 0)
                await Task.Delay(time.GetElapsedTime(started) * options.Value.GatherPacing, time);
        }
        var hosts = nodes.Select(async node =>
        {
            var grain = GrainFactory.GetGrain<INodeResourceGrain>(node);
            var summary = grain.GetSummaryAsync(SummaryWindow);
            var thresholds = grain.GetThresholdsAsync();
            return new HostObservation(node, await summary, await thresholds);
        }).ToList();
        var health = (await router).Models.ToDictionary(m => m.Model, m => m.Health, StringComparer.Ordinal);
        var inputs = new TuningInputs(now, c,
            [.. models.Select(m => new ModelObservation(m.Model, m.Summary, m.Minutes,
                _overrides.TimeoutSeconds.GetValueOrDefault(m.Model.Id, m.Model.TimeoutSeconds), _overrides.Penalties.GetValueOrDefault(m.Model.Id),
                health.GetValueOrDefault(m.Model.Id)))],
            await Task.WhenAll(hosts),
            [.. (await alerts).Events.OrderBy(e => e.Timestamp)],
            _overrides,
            (await modelRules).Rules);
        return (inputs, nodes.Count, 3 + 2 * catalog.Models.Count + 2 * nodes.Count);
    }

    private TuningRecommendation ToRecommendation(TuningProposal p, DateTimeOffset now) => new()
    {
        Id = $"tun-{++state.State.NextId:D6}",
        Rule = p.Rule,
        Action = p.Action,
        Target = p.Target,
        CurrentValue = p.CurrentValue,
        RecommendedValue = p.RecommendedValue,
        CurrentWeights = p.CurrentWeights,
        RecommendedWeights = p.RecommendedWeights,
        Confidence = p.Confidence,
        ExpectedImpact = p.ExpectedImpact,
        Reasoning = p.Reasoning,
        // A plain array: grain state is JSON with type names, and a collection expression's hidden type cannot be read back.
        Evidence = p.Evidence.ToArray(),
        CreatedAt = now,
        EvaluationMetric = p.EvaluationMetric,
        Baseline = p.Baseline,
        LowerIsBetter = p.LowerIsBetter,
    };

    private async Task<TuningRecommendation> ApplyChangeAsync(TuningRecommendation r, string by, DateTimeOffset now)
    {
        await SetAsync(r, r.RecommendedValue, r.RecommendedWeights);
        return Replace(r with { Status = TuningStatus.Applied, AppliedAt = now, AppliedBy = by });
    }

    private async Task<TuningRecommendation> UndoAsync(TuningRecommendation r, string why, double? observed, DateTimeOffset now)
    {
        await SetAsync(r, r.CurrentValue, r.CurrentWeights);
        return Replace(r with { Status = TuningStatus.RolledBack, DecidedAt = now, Observed = observed ?? r.Observed, Outcome = why });
    }

    private async Task<TuningRecommendation> JudgeAsync(TuningRecommendation r, TuningInputs inputs, TuningConfiguration c, DateTimeOffset now)
    {
        var observed = r.EvaluationMetric is null ? null
            : TuningMeasures.Measure(r.EvaluationMetric, inputs, r.AppliedAt!.Value, i => AdaptiveWeightRule.Objective(i, i.AdaptiveBase));
        if (observed is { } o && r.Baseline is { } baseline && TuningMeasures.IsWorse(baseline, o, r.LowerIsBetter, c.SafetyMargin))
            return await UndoAsync(r, $"{r.EvaluationMetric} went from {baseline:0.####} to {o:0.####}: worse by more than the safety margin ({c.SafetyMargin:P0})", o, now);
        var why = observed is null
            ? $"kept: {r.EvaluationMetric ?? "its metric"} had no data over the evaluation"
            : $"kept: {r.EvaluationMetric} went from {r.Baseline:0.####} to {observed:0.####}, within the safety margin";
        return Replace(r with { Status = TuningStatus.Kept, DecidedAt = now, Observed = observed, Outcome = why });
    }

    /// <summary>Sets a target to a value: a host's threshold through its grain, or what routing and the gateway honour.</summary>
    private async Task SetAsync(TuningRecommendation r, double? value, RoutingWeights? weights)
    {
        var target = r.Target[(r.Target.IndexOf(':') + 1)..];
        switch (r.Action)
        {
            case "raise_threshold" or "lower_threshold":
                var at = target.IndexOf('@');
                var (metric, node) = (target[..at], target[(at + 1)..]);
                var host = GrainFactory.GetGrain<INodeResourceGrain>(node);
                var levels = (await host.GetThresholdsAsync()).First(t => t.Metric == metric).Levels;
                await host.SetThresholdAsync(metric, levels with { Warning = value!.Value });
                return;
            case ModelAlertRuleRule.Action:
                var rules = GrainFactory.GetGrain<IModelAlertRulesGrain>(0);
                var current = (await rules.GetAsync()).Rules.Of(target);
                await rules.SetAsync(target, current with { Warning = value!.Value });
                return;
            case "set_weights":
                state.State.AdaptiveBase = weights;
                break;
            case "set_timeout":
                Set(state.State.TimeoutSeconds, target, value);
                break;
            case "shift_traffic":
                Set(state.State.Penalties, target, value is > 0 ? value : null);
                break;
        }
        state.State.OverridesVersion++;
        _overrides = BuildOverrides();

        static void Set(Dictionary<string, double> values, string key, double? value)
        {
            if (value is { } v) values[key] = v;
            else values.Remove(key);
        }
    }

    private TuningOverrides BuildOverrides() => new(state.State.OverridesVersion, state.State.AdaptiveBase,
        new Dictionary<string, double>(state.State.Penalties), new Dictionary<string, double>(state.State.TimeoutSeconds));

    private TuningRecommendation Replace(TuningRecommendation next)
    {
        var list = state.State.Recommendations;
        var i = list.FindIndex(r => r.Id == next.Id);
        if (i >= 0) list[i] = next;
        else list.Add(next);
        return next;
    }

    /// <summary>Keeps the newest recommendations; applied ones (still under evaluation) always stay.</summary>
    private void Trim()
    {
        var list = state.State.Recommendations;
        var excess = list.Count - options.Value.Capacity;
        for (var i = 0; i < list.Count && excess > 0;)
        {
            if (list[i].Status is TuningStatus.Applied or TuningStatus.Proposed) i++;
            else
            {
                list.RemoveAt(i);
                excess--;
            }
        }
    }

    /// <summary>Grain state first (what routing honours must survive), then the history, the log and the alert stream.</summary>
    private async Task PersistAsync(IReadOnlyList<TuningRecommendation> changes)
    {
        await state.WriteStateAsync();
        if (changes.Count == 0) return;
        var now = time.GetUtcNow();
        await history.AppendTuningAsync([.. changes.Select(r => new TuningHistoryEntry(now, r))]);
        var events = changes.Select(r => new AlertEvent
        {
            AlertId = $"tuning:{r.Id}",
            Node = r.Target.StartsWith("threshold:", StringComparison.Ordinal) ? r.Target[(r.Target.IndexOf('@') + 1)..] : "cluster",
            Series = "tuning",
            Metric = "tuning",
            Kind = AlertEventKind.Notice,
            Level = AlertLevel.Info,
            Value = r.RecommendedValue ?? 0,
            Timestamp = now,
            Message = $"tuning {TuningStatuses.Name(r.Status)} {r.Id} ({r.Action} {r.Target}): {r.Outcome ?? r.Reasoning}",
        }).ToList();
        foreach (var r in changes)
            logger.LogInformation("Tuning {Status} {Id} {Action} {Target}: {Why}", TuningStatuses.Name(r.Status), r.Id, r.Action, r.Target, r.Outcome ?? r.Reasoning);
        await GrainFactory.GetGrain<IAlertLogGrain>(0).AppendAsync(events);
        foreach (var e in events) await _stream.OnNextAsync(e);
    }
}
