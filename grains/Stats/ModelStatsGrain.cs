using Kyros.Perf.Alerts;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Durability;
using Kyros.Perf.History;
using Kyros.Perf.Routing;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Stats;

public sealed class ModelStatsGrain(
    [PersistentState("model-stats", KyrosStorage.Name)] IPersistentState<ModelStatsCheckpoint> checkpoint,
    [PersistentState("model-alerts", KyrosStorage.Name)] IPersistentState<ModelAlertState> alertState,
    IRecentRecordLog log,
    SqliteHistoryStore history,
    ClusterHistory clusterHistory,
    ModelCatalog catalog,
    IStoreEpoch epochs,
    TimeProvider time,
    IOptions<ModelStatsOptions> options,
    IOptions<RoutingOptions> routing,
    IOptions<AlertOptions> alertOptions,
    ModelAlertRuleBook alertRules,
    ILogger<ModelStatsGrain> logger) : Grain, IModelStatsGrain, IStateWriteBack
{
    private const int ReplayPage = 10_000;
    private ModelStatsLedger _ledger = new();
    private GroupCommit _commit = null!;
    private string _model = "";
    // The store's epoch this activation's state is in: the log refuses its records under any other (Redis lost them).
    private string _epoch = "";
    private readonly SemaphoreSlim _saving = new(1, 1);
    private bool _resync;
    private long _checkpointedPosition;
    private int _replayedOnActivation;
    private DateTimeOffset _lastPublished = DateTimeOffset.MinValue;
    private IGrainTimer? _deferredPublish;
    // The history part of windows that reach past the minutes kept, while the ledger's edge version holds.
    private readonly Dictionary<(DateTimeOffset From, DateTimeOffset To), MetricsAggregate> _edges = [];
    private int _edgesVersion;
    private ModelAlertMonitor _alerts = null!;
    private IAsyncStream<AlertEvent> _alertStream = null!;
    // The 24 h latency baseline, taken again once a minute (it barely moves in one).
    private (DateTimeOffset Minute, ModelSummary Summary)? _baseline;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _model = this.GetPrimaryKeyString();
        _epoch = await epochs.CurrentAsync();
        _ledger = RestoreLedger();
        _checkpointedPosition = _ledger.AppliedPosition;
        _commit = new GroupCommit(AppendAsync, _ledger.Apply, options.Value.MaxGroupRecords);
        if (catalog.IsReadable(_model))
        {
            _replayedOnActivation = await ReplayAsync();
            // No checkpoint and nothing to replay: the live state is gone (an embedded silo restarted). History has it.
            if (!checkpoint.RecordExists && _replayedOnActivation == 0) await SeedFromHistoryAsync(cancellationToken);
        }
        var period = options.Value.CheckpointInterval;
        this.RegisterGrainTimer(ct => CheckpointAsync(writeState: true, ct), new GrainTimerCreationOptions(period, period) { KeepAlive = false });
        _alerts = new ModelAlertMonitor(_model, alertOptions.Value);
        _alerts.Restore(alertState.State.Active);
        _alertStream = this.Stream();
        var every = alertOptions.Value.ModelEvaluationInterval;
        this.RegisterGrainTimer(EvaluateAlertsAsync, new GrainTimerCreationOptions(every, every) { KeepAlive = false });
    }

    /// <summary>
    /// The model's alert rules on its windows (<see cref="ModelAlertMonitor"/>); events are kept with the alert state
    /// they belong to, then delivered; what fails to go out goes with the next evaluation.
    /// </summary>
    private async Task EvaluateAlertsAsync(CancellationToken cancellationToken)
    {
        var model = catalog.Find(_model);
        if (model is null && !_alerts.Active.Any() && alertState.State.Outbox.Count == 0) return;
        var now = time.GetUtcNow();
        var span = alertOptions.Value.ErrorRateWindow;
        List<AlertEvent> events;
        try
        {
            // A model removed from the catalog is judged on nothing, so its open alerts resolve before its grain goes.
            model ??= new ModelDescriptor { Id = _model };
            var window = catalog.Contains(_model) ? await SummaryAsync(now, span)
                : ModelSummary.Create(_model, TimeWindow.Format(span), now, now, new MetricsAggregate());
            // Nothing to judge and nothing open: the 24 h and 1 h windows are not worth reading.
            if (window.Count == 0 && !_alerts.Active.Any() && alertState.State.Outbox.Count == 0) return;
            var hour = model.AvailabilitySlo is null ? null : await SummaryAsync(now, TimeSpan.FromHours(1));
            var day = model.LatencySloSeconds is not null && model.TtftSloSeconds is not null ? null : await BaselineAsync(now);
            events = _alerts.Evaluate(now, new ModelWindows(window, hour, day),
                new ModelSlos(model.LatencySloSeconds, model.TtftSloSeconds, model.AvailabilitySlo), alertRules.Current.Rules);
        }
        catch (Exception exception) when (exception is Microsoft.Data.Sqlite.SqliteException or KyrosUnavailableException or TimeoutException or OrleansException)
        {
            logger.LogWarning("Model {Model}: alert rules not evaluated (history unreadable): {Reason}", _model, exception.Message);
            return;
        }
        if (events.Count > 0)
        {
            alertState.State.Active = [.. _alerts.Active];
            alertState.State.Outbox.AddRange(events);
            await alertState.WriteStateAsync(cancellationToken);
            foreach (var alert in events)
            {
                logger.LogInformation("Alert {Kind} {Level}: {Message}", alert.Kind, alert.Level, alert.Message);
                KyrosTelemetry.AlertEvents.Add(1, new("level", AlertLevels.Name(alert.Level)), new("metric", alert.Metric), new("kind", alert.Kind.ToString().ToLowerInvariant()));
            }
        }
        if (alertState.State.Outbox.Count == 0) return;
        var pending = alertState.State.Outbox.ToArray();
        if (!await AlertDelivery.TryDeliverAsync(GrainFactory, _alertStream, pending, logger, _model)) return;
        alertState.State.Outbox.RemoveRange(0, pending.Length);
        await alertState.WriteStateAsync(cancellationToken);
    }

    private async ValueTask<ModelSummary> BaselineAsync(DateTimeOffset now)
    {
        var minute = TimeWindow.StartAt(now, TimeWindow.Min);
        if (_baseline is { } kept && kept.Minute == minute) return kept.Summary;
        var summary = await SummaryAsync(now, TimeWindow.Max);
        _baseline = (minute, summary);
        return summary;
    }

    private async ValueTask<ModelSummary> SummaryAsync(DateTimeOffset now, TimeSpan window) =>
        ModelSummary.Create(_model, TimeWindow.Format(window), _ledger.WindowStart(now, window, null), now, await WindowAsync(now, window));

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (reason.ReasonCode == DeactivationReasonCode.ActivationFailed) return;
        // At shutdown grain storage may already be gone (memory storage is); the log replays what a checkpoint lacks.
        await CheckpointAsync(writeState: reason.ReasonCode != DeactivationReasonCode.ShuttingDown, cancellationToken);
    }

    public async Task<RecordResult> RecordAsync(ModelPerformanceRecord record)
    {
        RecordValidator.Validate(record, time.GetUtcNow());
        EnsureOwnModel(record.Model, "model");
        return await CommitAsync([record], single: true);
    }

    public async Task<RecordResult> RecordBatchAsync(IReadOnlyList<ModelPerformanceRecord> records)
    {
        RecordValidator.ValidateBatch(records, time.GetUtcNow());
        for (var i = 0; i < records.Count; i++)
            if (!string.Equals(records[i].Model, _model, StringComparison.Ordinal)) EnsureOwnModel(records[i].Model, $"[{i}].model");
        catalog.EnsureRecordable(_model, "[0].model");
        return await CommitAsync(records, single: false);
    }

    /// <summary>Checked records into the group commit, then to routing and the meter: one path for one record and a batch.</summary>
    private async Task<RecordResult> CommitAsync(IReadOnlyList<ModelPerformanceRecord> records, bool single)
    {
        _ledger.ReserveInstances(records, options.Value.MaxInstancesPerModel, single);
        await SeedLateMinutesAsync(records);
        var result = await _commit.SubmitAsync(records);
        PublishRoutingStats(force: false);
        if (result.Recorded > 0) KyrosTelemetry.Records.Add(result.Recorded, new KeyValuePair<string, object?>("model", _model));
        return result;
    }

    public async Task<ModelSummary> GetSummaryAsync(TimeSpan window, string? instance = null)
    {
        TimeWindow.Validate(window);
        catalog.EnsureReadable(_model);
        if (instance is not null && !_ledger.KnowsInstance(instance))
            throw new ArgumentException($"instance '{instance}' has no records for model '{_model}' in the last {TimeWindow.Format(ModelStatsLedger.MinuteSpan)}.", "instance");
        var now = time.GetUtcNow();
        if (instance is null) return await SummaryAsync(now, window);
        return ModelSummary.Create(_model, TimeWindow.Format(window), _ledger.WindowStart(now, window, instance), now, _ledger.Window(now, window, instance), instance);
    }

    public Task<IReadOnlyList<ModelSummary>> GetInstanceSummariesAsync(TimeSpan window)
    {
        TimeWindow.Validate(window);
        catalog.EnsureReadable(_model);
        var now = time.GetUtcNow();
        var label = TimeWindow.Format(window);
        IReadOnlyList<ModelSummary> summaries = _ledger.Instances.Order(StringComparer.Ordinal)
            .Select(instance => ModelSummary.Create(_model, label, _ledger.WindowStart(now, window, instance), now, _ledger.Window(now, window, instance), instance))
            .Where(s => s.Count > 0)
            .ToArray();
        return Task.FromResult(summaries);
    }

    public async Task<IReadOnlyList<ModelMinute>> GetMinutesAsync(TimeSpan window)
    {
        TimeWindow.Validate(window);
        catalog.EnsureReadable(_model);
        var now = time.GetUtcNow();
        var folded = _ledger.FoldedRange(now, window) is { } range
            ? await clusterHistory.QueryAsync(_model, HistoryResolution.Minute, range.From, range.To)
            : null;
        return _ledger.Minutes(now, window, folded);
    }

    public async Task<MetricsAggregate> GetAggregateAsync(TimeSpan window)
    {
        TimeWindow.Validate(window);
        catalog.EnsureReadable(_model);
        return await WindowAsync(time.GetUtcNow(), window);
    }

    public async Task<FeedbackResult> RecordFeedbackAsync(string requestId, DateTimeOffset requestedAt, double score)
    {
        Gateway.GatewayValidator.ValidateFeedback(requestId, score);
        catalog.EnsureRecordable(_model);
        if (!await log.ContainsAsync(_model, requestId)) return FeedbackResult.UnknownRequest;
        var feedback = new ModelPerformanceRecord(_model, null, requestedAt, 0, null, 0, 0, true, null, 0, score,
            requestId + ModelPerformanceRecord.FeedbackSuffix, IsFeedback: true);
        RecordValidator.Validate(feedback, time.GetUtcNow());
        await SeedLateMinutesAsync([feedback]);
        var result = await _commit.SubmitAsync([feedback]);
        PublishRoutingStats(force: false);
        return result.Recorded == 1 ? FeedbackResult.Recorded : FeedbackResult.Duplicate;
    }

    public Task<IReadOnlyList<ModelPerformanceRecord>> GetRecentRecordsAsync(int limit)
    {
        if (limit is < 1 or > 10_000) throw new ArgumentException($"limit must be within 1..10000; got {limit}.", "limit");
        catalog.EnsureReadable(_model);
        return log.ReadLatestAsync(_model, limit);
    }

    public Task<ModelStatsInfo> GetInfoAsync() => Task.FromResult(new ModelStatsInfo(
        _model, this.GrainContext.Address.SiloAddress?.ToString() ?? "", Environment.ProcessId, _ledger.AppliedPosition,
        _ledger.MinuteCount, _ledger.RecordCount, checkpoint.RecordExists ? checkpoint.State.SavedAt : null, _replayedOnActivation,
        _ledger.HourCount));

    public async Task PurgeAsync()
    {
        if (catalog.Contains(_model)) throw new InvalidOperationException($"Model '{_model}' is in the catalog: its live state stays.");
        _deferredPublish?.Dispose();
        _ledger = new ModelStatsLedger();
        _checkpointedPosition = 0;
        await log.DeleteAsync(_model);
        await checkpoint.ClearStateAsync();
        logger.LogInformation("Model {Model}: live state deleted (removed from the catalog)", _model);
        DeactivateOnIdle();
    }

    /// <summary>
    /// A model's window; one that reaches past the minutes kept takes its part hour from history, asked once a minute
    /// (the edge moves with the window's start) and again only when a late record changes what history answers.
    /// </summary>
    private async ValueTask<MetricsAggregate> WindowAsync(DateTimeOffset now, TimeSpan window)
    {
        if (_ledger.EdgeRange(now, window) is not { } range) return _ledger.Window(now, window);
        if (_edgesVersion != _ledger.EdgeVersion || _edges.Count > 8)
        {
            _edges.Clear();
            _edgesVersion = _ledger.EdgeVersion;
        }
        if (!_edges.TryGetValue(range, out var edge))
        {
            var version = _ledger.EdgeVersion;
            edge = _ledger.MergeEdge(await clusterHistory.QueryAsync(_model, HistoryResolution.Minute, range.From, range.To));
            // A late record may have changed the ledger while history answered: use the edge, keep it only if nothing did.
            if (version == _ledger.EdgeVersion) _edges[range] = edge;
        }
        return _ledger.Window(now, window, edge: edge);
    }

    /// <summary>Before records for minutes already folded into hours are applied, those minutes take their rows from history.</summary>
    private async Task SeedLateMinutesAsync(IEnumerable<ModelPerformanceRecord> records)
    {
        var late = _ledger.LateMinutes(records);
        if (late.Count == 0) return;
        var rows = await clusterHistory.QueryAsync(_model, HistoryResolution.Minute,
            ModelStatsLedger.StartOf(late.Min()), ModelStatsLedger.StartOf(late.Max() + 1));
        var byMinute = rows.ToDictionary(r => ModelStatsLedger.MinuteOf(r.Start), r => r.Aggregate);
        foreach (var minute in late) _ledger.SeedLate(minute, byMinute.GetValueOrDefault(minute));
    }

    private void EnsureOwnModel(string model, string field)
    {
        catalog.EnsureRecordable(model, field);
        if (!string.Equals(model, _model, StringComparison.Ordinal))
            throw new ArgumentException($"{field} '{model}' belongs to another model's grain than '{_model}'.", field);
    }

    /// <summary>Tells the routers this model's last 5 minutes, at most once per snapshot interval (and on every checkpoint).</summary>
    private void PublishRoutingStats(bool force)
    {
        var now = time.GetUtcNow();
        var due = _lastPublished + routing.Value.SnapshotInterval;
        if (!force && now < due)
        {
            // Throttled: publish once the interval is up, so no record waits for the next one to be seen.
            _deferredPublish ??= this.RegisterGrainTimer(() =>
            {
                _deferredPublish?.Dispose();
                _deferredPublish = null;
                PublishRoutingStats(force: true);
                return Task.CompletedTask;
            }, new GrainTimerCreationOptions(due - now, Timeout.InfiniteTimeSpan) { Interleave = true });
            return;
        }
        _lastPublished = now;
        GrainFactory.GetGrain<IRoutingStatsGrain>(0).PublishAsync(_ledger.RoutingStats(_model, now)).Ignore();
    }

    private ModelStatsLedger RestoreLedger()
    {
        try
        {
            return ModelStatsLedger.FromSnapshot(checkpoint.State.Ledger);
        }
        catch (InvalidDataException exception)
        {
            // An unreadable checkpoint costs only time: the log replays what it can, history seeds the rest.
            logger.LogWarning(exception, "Model {Model}: checkpoint unreadable; rebuilding from the log", _model);
            return new ModelStatsLedger();
        }
    }

    private async Task SeedFromHistoryAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var split = ModelStatsLedger.SeedSplit(now);
        try
        {
            var hours = await clusterHistory.QueryAsync(_model, HistoryResolution.Hour, now - ModelStatsLedger.LiveRetention, split);
            var minutes = await clusterHistory.QueryAsync(_model, HistoryResolution.Minute, split,
                now + RecordValidator.MaxClockSkew + TimeSpan.FromMinutes(1));
            _ledger.SeedHistory(minutes, hours, split);
            if (hours.Count + minutes.Count > 0)
                logger.LogInformation("Model {Model}: live state rebuilt from {Hours} hours and {Minutes} minutes of history", _model, hours.Count, minutes.Count);
        }
        catch (Exception exception) when (exception is Microsoft.Data.Sqlite.SqliteException or KyrosUnavailableException or TimeoutException)
        {
            // Serving new records matters more than the old figures; the model starts empty.
            logger.LogWarning(exception, "Model {Model}: history unreadable; live state starts empty", _model);
        }
    }

    private async ValueTask<long[]> AppendAsync(IReadOnlyList<ModelPerformanceRecord> records)
    {
        if (_resync)
        {
            // A failed write may still have landed: take whatever the log holds beyond what was applied.
            await ReplayAsync();
            _resync = false;
        }
        try
        {
            try
            {
                return await log.AppendAsync(_model, records, Writer);
            }
            catch (LogEpochException exception)
            {
                // Redis lost the model's data since this activation read it: nothing was written. Everything the
                // activation holds goes back first, so the records are acknowledged only once all of it is stored again.
                logger.LogWarning("Model {Model}: {Reason}; writing back what the grain holds", _model, exception.Message);
                await WriteBackAsync(await epochs.ReadAsync());
                return await log.AppendAsync(_model, records, Writer);
            }
        }
        catch (LogEpochException exception)
        {
            throw new KyrosUnavailableException($"Model '{_model}': Redis lost its data and the grain's write-back did not take: {exception.Message}");
        }
        catch
        {
            _resync = true;
            throw;
        }
    }

    private WriterEpoch Writer => new(_epoch, HoldsNothing: _ledger.AppliedPosition == 0);

    /// <summary>Writes the whole ledger as a checkpoint under <paramref name="epoch"/> and starts the model's log again under it, above the checkpoint's position.</summary>
    public async Task WriteBackAsync(string epoch)
    {
        await SaveCheckpointAsync(epoch, CancellationToken.None);
        await alertState.WriteBackAsync();
    }

    /// <summary>Applies the log's records that the checkpoint does not hold yet.</summary>
    private async Task<int> ReplayAsync()
    {
        var replayed = 0;
        while (true)
        {
            var page = await log.ReadAfterAsync(_model, _ledger.AppliedPosition, ReplayPage);
            await SeedLateMinutesAsync(page.Select(entry => entry.Record));
            foreach (var entry in page) _ledger.Apply(entry.Record, entry.Position);
            replayed += page.Count;
            if (page.Count < ReplayPage) break;
        }
        if (replayed > 0) logger.LogInformation("Model {Model}: replayed {Count} records newer than the checkpoint", _model, replayed);
        return replayed;
    }

    private async Task CheckpointAsync(bool writeState, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        _ledger.Prune(now);
        if (writeState && catalog.Contains(_model)) PublishRoutingStats(force: true);
        if (_ledger.HasUnflushed)
        {
            var (rows, minutes) = _ledger.TakeUnflushed(_model);
            try
            {
                await history.WriteAsync(rows);
                _ledger.Flushed(minutes);
            }
            catch (Exception exception)
            {
                _ledger.Unflush(minutes);
                logger.LogWarning(exception, "Model {Model}: history write failed; it is retried at the next checkpoint", _model);
            }
        }
        if (writeState) await SaveCheckpointAsync(writtenBackUnder: null, cancellationToken);
    }

    /// <summary>
    /// Writes the ledger as the checkpoint when it holds records the last one does not, or, with
    /// <paramref name="writtenBackUnder"/>, always, and then starts the model's log again under that epoch. One write at a
    /// time: the timer, a write-back and a record's own write-back may overlap (records interleave), and two writes of one
    /// state at once would conflict on its ETag.
    /// </summary>
    private async Task SaveCheckpointAsync(string? writtenBackUnder, CancellationToken cancellationToken)
    {
        await _saving.WaitAsync(cancellationToken);
        try
        {
            // The snapshot is taken in this turn: records applied later are beyond its position and get replayed.
            var position = _ledger.AppliedPosition;
            if (writtenBackUnder is null && position == _checkpointedPosition) return;
            checkpoint.State = new ModelStatsCheckpoint { Ledger = _ledger.ToSnapshot(), SavedAt = time.GetUtcNow() };
            await checkpoint.WriteStateAsync(cancellationToken);
            // Stored: the ledger is read from it only at activation, so the copy need not stay in memory.
            checkpoint.State.Ledger = null;
            _checkpointedPosition = position;
            if (writtenBackUnder is null)
            {
                await log.MarkCheckpointAsync(_model, position);
                return;
            }
            await log.MarkWrittenBackAsync(_model, writtenBackUnder, position);
            _epoch = writtenBackUnder;
        }
        finally
        {
            _saving.Release();
        }
    }
}
