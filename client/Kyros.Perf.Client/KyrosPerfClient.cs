using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Client;

/// <summary>
/// The typed face of a Kyros.Perf cluster for .NET services. Bad input throws <see cref="ArgumentException"/>
/// whose <see cref="ArgumentException.ParamName"/> is the field as the HTTP API names it; nothing is recorded then.
/// A fault that passes (a silo died or left, a store hung) throws <see cref="KyrosUnavailableException"/>; idempotent
/// calls (records, which carry request ids; reads; routing decisions) are first tried again for up to
/// <see cref="KyrosPerfClientOptions.RetryDeadline"/>. Calls that change state otherwise (generation, settlements,
/// tuning and benchmark actions, thresholds, samples) are never sent twice.
/// </summary>
/// <param name="options">The routing call settings; null for the defaults.</param>
public sealed partial class KyrosPerfClient(IClusterClient cluster, TimeProvider time, KyrosPerfClientOptions? options = null)
{
    private IClusterClient Cluster => cluster;
    private TimeProvider Time => time;

    private volatile HashSet<string>? _catalog;

    // Resolving a grain reference reads the interface's attributes each time; the router is called on every request.
    private IRouterGrain Router => field ??= cluster.GetGrain<IRouterGrain>(0);

    private readonly KyrosPerfClientOptions _options = options ?? new KyrosPerfClientOptions();
    // Created (and the options checked) with the client, so that bad options fail at once.
    private readonly DecisionCoalescer? _coalescer = CreateCoalescer(cluster, options ?? new KyrosPerfClientOptions());

    /// <summary>The longest wait between two tries of an idempotent call.</summary>
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    public async Task<RecordResult> RecordAsync(ModelPerformanceRecord record)
    {
        RecordValidator.Validate(record, time.GetUtcNow());
        await EnsureInCatalogAsync([record], batch: false);
        return await Retried(() => cluster.GetGrain<IModelStatsGrain>(record.Model).RecordAsync(record));
    }

    /// <summary>
    /// Records a batch (at most 10,000) that may span models; each model's share is one grain call. The whole batch is
    /// checked first (fields and catalog), so a bad record stops it before anything is written.
    /// </summary>
    public async Task<RecordResult> RecordBatchAsync(IReadOnlyList<ModelPerformanceRecord> records)
    {
        RecordValidator.ValidateBatch(records, time.GetUtcNow());
        await EnsureInCatalogAsync(records, batch: true);
        return await Retried(() => ModelBatches.RecordAsync(cluster, records));
    }

    /// <summary>A model's summary over the window; one instance's when <paramref name="instance"/> is given.</summary>
    public Task<ModelSummary> GetSummaryAsync(string model, TimeSpan window, string? instance = null)
    {
        RequireModel(model);
        TimeWindow.Validate(window);
        return Retried(() => cluster.GetGrain<IModelStatsGrain>(model).GetSummaryAsync(window, instance));
    }

    /// <summary>One summary per instance (deployment) of the model that has records in the window.</summary>
    public Task<IReadOnlyList<ModelSummary>> GetInstanceSummariesAsync(string model, TimeSpan window)
    {
        RequireModel(model);
        TimeWindow.Validate(window);
        return Retried(() => cluster.GetGrain<IModelStatsGrain>(model).GetInstanceSummariesAsync(window));
    }

    /// <summary>Every catalog model's summary and their exact merge.</summary>
    public Task<ClusterSummary> GetClusterSummaryAsync(TimeSpan window)
    {
        TimeWindow.Validate(window);
        return Retried(() => cluster.GetGrain<IPerformanceSummaryGrain>(0).GetClusterSummaryAsync(window));
    }

    public Task<IReadOnlyList<ModelPerformanceRecord>> GetRecentRecordsAsync(string model, int limit = 100)
    {
        RequireModel(model);
        return Retried(() => cluster.GetGrain<IModelStatsGrain>(model).GetRecentRecordsAsync(limit));
    }

    /// <summary>
    /// Picks a model for a request. Throws <see cref="Routing.NoCandidateException"/> (with each candidate's reason)
    /// when none passes the filters. Calls that overlap are coalesced: while
    /// <see cref="KyrosPerfClientOptions.RoutingCallsInFlight"/> calls are out, the next requests go together in one.
    /// </summary>
    public Task<Routing.RoutingDecision> RouteAsync(Routing.RoutingRequest request)
    {
        Routing.RoutingValidator.Validate(request);
        return Retried(() => _coalescer?.DecideAsync(request) ?? Router.SelectModelAsync(request));
    }

    /// <summary>The best <paramref name="topN"/> candidates (null: up to 3 of those that pass), each as the decision that would pick it.</summary>
    public Task<IReadOnlyList<Routing.RoutingDecision>> RecommendAsync(Routing.RoutingRequest request, int? topN = null)
    {
        Routing.RoutingValidator.Validate(request);
        if (topN < 1) throw new ArgumentException($"top_n must be at least 1; got {topN}.", "top_n");
        return Retried(() => Router.GetRecommendationsAsync(request, topN ?? 0));
    }

    /// <summary>
    /// The router of the silo this client reaches: each model's health (cooling down until when, probed, healthy, and
    /// why), what the cluster used of its rate limits over the last minute, and its statistics' samples and age.
    /// </summary>
    public Task<Routing.RouterState> GetRouterStateAsync() => Retried(() => Router.GetStateAsync());

    /// <summary>Settles the tokens a decision reserved against a model's rate limit with what the request used.</summary>
    public Task SettleAsync(string model, long reservedTokens, long actualTokens)
    {
        RequireModel(model);
        return Call(async () =>
        {
            await Router.SettleAsync(model, reservedTokens, actualTokens);
            return true;
        });
    }


    /// <summary>The active silos and their status.</summary>
    public async Task<IReadOnlyList<string>> GetSilosAsync()
    {
        var hosts = await Retried(() => cluster.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true));
        return hosts.Select(h => $"{h.Key} {h.Value}").Order().ToArray();
    }

    /// <summary>A no-op grain call: liveness, and the baseline benchmarks compare to.</summary>
    public Task PingAsync() => cluster.GetGrain<IPingGrain>(0).PingAsync();

    // The catalog is read once and again only when a model is missing from it (it changes at run time). A model removed
    // within its grace period still takes records; once past it, the grain refuses them.
    private async Task EnsureInCatalogAsync(IReadOnlyList<ModelPerformanceRecord> records, bool batch)
    {
        for (var attempt = 0; ; attempt++)
        {
            var catalog = _catalog ??= await RecordableModelsAsync();
            var missing = -1;
            for (var i = 0; i < records.Count && missing < 0; i++)
                if (!catalog.Contains(records[i].Model)) missing = i;
            if (missing < 0) return;
            if (attempt > 0)
            {
                var field = batch ? $"[{missing}].model" : "model";
                throw new ArgumentException($"{field} '{records[missing].Model}' is not in the model catalog ({string.Join(", ", catalog)}).", field);
            }
            _catalog = null;
        }
    }

    private async Task<HashSet<string>> RecordableModelsAsync()
    {
        var snapshot = (await Retried(() => cluster.GetGrain<IModelCatalogGrain>(0).WaitForNewerAsync(-1, TimeSpan.Zero)))!;
        var now = time.GetUtcNow();
        return [.. snapshot.Models.Select(e => e.Model.Id), .. snapshot.Removed.Where(r => r.TakesRecordsAt(now)).Select(r => r.Id)];
    }

    private static void RequireModel(string model, string field = "model")
    {
        if (string.IsNullOrWhiteSpace(model)) throw new ArgumentException($"{field} is required.", field);
    }

    // A grain's ArgumentException reaches the caller without ParamName; give it back.
    private static DecisionCoalescer? CreateCoalescer(IClusterClient cluster, KyrosPerfClientOptions options)
    {
        options.Validate();
        return options.RoutingCallsInFlight == 0 ? null : new DecisionCoalescer(cluster.GetGrain<IRouterGrain>(0), options.RoutingCallsInFlight, options.RoutingBatchSize);
    }

    /// <summary>One try: bad input gets its field back, and a fault that passes becomes <see cref="KyrosUnavailableException"/>.</summary>
    private static async Task<T> Call<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (ArgumentException exception) when (exception.ParamName is null)
        {
            throw ArgumentErrors.Restore(exception);
        }
        catch (Exception exception) when (exception is not KyrosUnavailableException && TransientFaults.IsTransient(exception))
        {
            throw TransientFaults.Describe(exception);
        }
    }

    /// <summary>
    /// An idempotent call: a try that faults, or takes longer than <see cref="KyrosPerfClientOptions.AttemptTimeout"/>,
    /// is tried again 0.1 s later (doubling to 1 s) until one answers or the deadline is near. With the deadline at
    /// zero it is one plain try.
    /// </summary>
    private async Task<T> Retried<T>(Func<Task<T>> call)
    {
        if (_options.RetryDeadline == TimeSpan.Zero) return await Call(call);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                return await Call(() => call().WaitAsync(_options.AttemptTimeout));
            }
            catch (KyrosUnavailableException) when (System.Diagnostics.Stopwatch.GetElapsedTime(started) + delay < _options.RetryDeadline)
            {
                await Task.Delay(delay);
                delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
            }
        }
    }
}
