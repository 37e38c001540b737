using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Streams;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Catalog;

/// <summary>
/// The cluster's catalog. Thin: <see cref="CatalogBook"/> decides each change; this seeds the catalog from its silo's
/// configuration on the cluster's first start, stores every change before answering, logs it, appends it to the alert log
/// and stream as info, and hourly deletes the live state of models removed long enough ago that no window reaches them.
/// </summary>
public sealed class ModelCatalogGrain(
    [PersistentState("catalog", KyrosStorage.Name)] IPersistentState<ModelCatalogState> state,
    ModelCatalog catalog,
    IOptions<ModelCatalogOptions> options,
    Orleans.Serialization.Serializer<List<CatalogEntry>> packer,
    TimeProvider time,
    ILogger<ModelCatalogGrain> logger) : Grain, IModelCatalogGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private CatalogBook _book = null!;
    // What silos are served: the catalog as last stored, never a change whose write has not finished.
    private CatalogSnapshot _stored = null!;
    // Completed (and replaced) when a change is stored: what the silos' waiting calls wait for.
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IAsyncStream<AlertEvent> _stream = null!;


    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = this.GetStreamProvider(AlertStreams.Provider).GetStream<AlertEvent>(StreamId.Create(AlertStreams.Namespace, AlertStreams.All));
        if (state.State.PackedModels is { } packed) state.State.Models = packer.Deserialize(packed) ?? [];
        _book = new CatalogBook(state.State, options.Value.ChangeHistory, options.Value.RemovalGrace);
        if (!_book.IsSeeded)
        {
            // Nothing stored. This silo followed a stored catalog (its copy has a version): the store lost it, and the copy
            // comes back rather than the configuration's models. Otherwise the cluster's first start: the configuration seeds it.
            var copy = catalog.Current;
            var change = copy.Version > 0
                ? _book.Restore(copy.ToSnapshot(), "silo copy", time.GetUtcNow())
                : _book.Seed(catalog.Configured, "configuration", time.GetUtcNow());
            if (copy.Version > 0)
                logger.LogWarning("The stored catalog is gone (Redis lost its data?): version {Version} taken back from this silo's copy, {Count} models", copy.Version, copy.Models.Count);
            await PersistAsync(change);
        }
        _stored = _book.Snapshot;
        this.RegisterGrainTimer(async ct => await PurgeRemovedAsync(), new GrainTimerCreationOptions(TimeSpan.FromMinutes(1), TimeSpan.FromHours(1)));
    }

    public async Task<CatalogSnapshot?> WaitForNewerAsync(long version, TimeSpan maxWait)
    {
        if (maxWait < TimeSpan.Zero || maxWait > TimeSpan.FromSeconds(20)) throw new ArgumentException("maxWait must be within 0..20 s.", nameof(maxWait));
        if (_stored.Version <= version && maxWait > TimeSpan.Zero) await Task.WhenAny(_changed.Task, Task.Delay(maxWait));
        return _stored.Version > version ? _stored : null;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The waiting silos are answered now (with nothing newer) rather than held until their wait ends.
        _changed.TrySetResult();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ModelDescriptor>> GetModelsAsync() => Task.FromResult<IReadOnlyList<ModelDescriptor>>([.. _stored.Models.Select(e => e.Model)]);

    public Task<CatalogEntry?> GetModelAsync(string id) => Task.FromResult(_stored.Models.FirstOrDefault(e => e.Model.Id == id));

    public async Task<CatalogEdit> AddAsync(ModelDescriptor model, string actor)
    {
        var (entry, change) = _book.Add(model, RequireActor(actor), time.GetUtcNow());
        await PersistAsync(change);
        return new CatalogEdit(entry, change);
    }

    public async Task<CatalogEdit> ReplaceAsync(ModelDescriptor model, long? expectedRevision, string actor)
    {
        var (entry, change) = _book.Replace(model, expectedRevision, RequireActor(actor), time.GetUtcNow());
        await PersistAsync(change);
        return new CatalogEdit(entry, change);
    }

    public async Task<CatalogEdit> RemoveAsync(string id, long? expectedRevision, string actor)
    {
        var change = _book.Remove(id, expectedRevision, RequireActor(actor), time.GetUtcNow());
        await PersistAsync(change);
        return new CatalogEdit(null, change);
    }

    public async Task<CatalogEdit> SeedAsync(IReadOnlyList<ModelDescriptor> models, string actor)
    {
        ArgumentNullException.ThrowIfNull(models);
        var change = _book.Seed(models, RequireActor(actor), time.GetUtcNow());
        await PersistAsync(change);
        return new CatalogEdit(null, change);
    }

    public Task<IReadOnlyList<CatalogChange>> GetChangesAsync(int limit)
    {
        if (limit is < 1 or > 10_000) throw new ArgumentException($"limit must be within 1..10000; got {limit}.", "limit");
        return Task.FromResult<IReadOnlyList<CatalogChange>>([.. _book.Changes.Reverse().Take(limit)]);
    }

    public async Task<IReadOnlyList<string>> PurgeRemovedAsync()
    {
        var purged = new List<string>();
        foreach (var id in _book.DueForPurge(time.GetUtcNow(), ModelStatsLedger.LiveRetention))
        {
            try
            {
                await GrainFactory.GetGrain<IModelStatsGrain>(id).PurgeAsync();
            }
            catch (Exception exception) when (exception is not InvalidOperationException)
            {
                // The next round tries again; the model stays removed meanwhile.
                logger.LogWarning(exception, "Deleting the live state of removed model {Model} failed", id);
                continue;
            }
            if (_book.MarkPurged(id, time.GetUtcNow()) is { } change)
            {
                await PersistAsync(change);
                purged.Add(id);
            }
        }
        return purged;
    }

    private static string RequireActor(string actor) =>
        string.IsNullOrWhiteSpace(actor) || actor.Length > 200 ? throw new ArgumentException("actor must be 1-200 characters.", "actor") : actor;

    /// <summary>Stored first (an answer means the change holds), then this silo's copy, the log, the alert log and the stream.</summary>
    private async Task PersistAsync(CatalogChange change)
    {
        try
        {
            state.State.PackedModels = packer.SerializeToArray(state.State.Models);
            await state.WriteStateAsync();
        }
        catch
        {
            // Not stored: the next activation reads the stored catalog, so this one must not serve the change.
            DeactivateOnIdle();
            throw;
        }
        _stored = _book.Snapshot;
        catalog.Apply(_stored);
        var changed = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
        logger.LogInformation("Catalog v{Version}: {Action} {Model} by {Actor}: {Detail}", change.Version, change.Action, change.Model, change.Actor, change.Detail);
        var notice = new AlertEvent
        {
            AlertId = $"catalog:{change.Version}",
            Node = "cluster",
            Series = "catalog",
            Metric = "catalog",
            Kind = AlertEventKind.Notice,
            Level = AlertLevel.Info,
            Value = change.Version,
            Timestamp = change.Timestamp,
            Message = $"catalog {change.Action.ToString().ToLowerInvariant()} {change.Model} by {change.Actor}: {change.Detail}",
        };
        try
        {
            await GrainFactory.GetGrain<IAlertLogGrain>(0).AppendAsync([notice]);
            await _stream.OnNextAsync(notice);
        }
        catch (Exception exception)
        {
            // The change holds whether or not its notice went out.
            logger.LogWarning(exception, "Catalog change v{Version} was not published on the alert stream", change.Version);
        }
    }
}
