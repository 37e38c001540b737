using System.Globalization;
using System.Text.Json;
using Kyros.Perf.Common;

namespace Kyros.Perf.Catalog;

/// <summary>
/// The rules of changing the catalog, over its state: checks, revisions, removals and their grace, the change history.
/// Each change raises the version by one and stamps the models it touched with it. Plain code: the grain persists and
/// publishes what this decides.
/// </summary>
public sealed class CatalogBook(ModelCatalogState state, int changeHistory, TimeSpan removalGrace)
{
    private CatalogSnapshot? _snapshot;

    public long Version => state.Version;

    public bool IsSeeded => state.Version > 0;

    /// <summary>The catalog as it stands (built once per version).</summary>
    public CatalogSnapshot Snapshot => _snapshot ??= new CatalogSnapshot(state.Version, [.. state.Models], [.. state.Removed]);

    public IReadOnlyList<CatalogChange> Changes => state.Changes;

    public CatalogEntry? Find(string id) => state.Models.Find(e => e.Model.Id == id);

    /// <summary>Replaces the catalog with <paramref name="models"/> (configuration): models it drops are removed, as by <see cref="Remove"/>.</summary>
    public CatalogChange Seed(IReadOnlyList<ModelDescriptor> models, string actor, DateTimeOffset now)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < models.Count; i++)
        {
            ModelDescriptorValidator.Validate(models[i], $"models[{i}].");
            if (!ids.Add(models[i].Id)) throw new ArgumentException($"models[{i}].id '{models[i].Id}' appears twice.", $"models[{i}].id");
        }
        var version = state.Version + 1;
        foreach (var dropped in state.Models.Where(e => !ids.Contains(e.Model.Id)))
            state.Removed.Add(new RemovedModel(dropped.Model.Id, now, version, now + removalGrace));
        state.Removed.RemoveAll(r => ids.Contains(r.Id));
        state.Models = [.. models.Select(m => new CatalogEntry(m, version))];
        return Commit(CatalogAction.Seeded, "*", actor, now, $"{models.Count} models from configuration");
    }

    /// <summary>
    /// Takes back <paramref name="copy"/>, a silo's copy of the catalog at its version, when the store holds none: the
    /// store lost it (a flushed or replaced Redis), so the cluster's models are not replaced by a configuration's.
    /// </summary>
    public CatalogChange Restore(CatalogSnapshot copy, string actor, DateTimeOffset now)
    {
        if (IsSeeded) throw new InvalidOperationException("The catalog is stored: there is nothing to restore.");
        state.Version = copy.Version;
        state.Models = [.. copy.Models];
        state.Removed = [.. copy.Removed];
        return Commit(CatalogAction.Restored, "*", actor, now, $"{copy.Models.Count} models from a silo's copy at version {copy.Version}: the store had lost the catalog");
    }

    public (CatalogEntry Entry, CatalogChange Change) Add(ModelDescriptor model, string actor, DateTimeOffset now)
    {
        ModelDescriptorValidator.Validate(model);
        if (Find(model.Id) is not null) throw new CatalogModelExistsException($"Model '{model.Id}' is in the catalog already; PUT or PATCH /v1/models/{model.Id} changes it.");
        var entry = new CatalogEntry(model, state.Version + 1);
        state.Models.Add(entry);
        // A model added again after its removal carries on with the statistics it kept.
        state.Removed.RemoveAll(r => r.Id == model.Id);
        return (entry, Commit(CatalogAction.Added, model.Id, actor, now, $"{model.Provider}, {Price(model.InputPricePer1k)}/{Price(model.OutputPricePer1k)} per 1k tokens"));
    }

    public (CatalogEntry Entry, CatalogChange Change) Replace(ModelDescriptor model, long? expectedRevision, string actor, DateTimeOffset now)
    {
        ModelDescriptorValidator.Validate(model);
        var index = IndexOf(model.Id, expectedRevision);
        var before = state.Models[index].Model;
        var entry = new CatalogEntry(model, state.Version + 1);
        state.Models[index] = entry;
        return (entry, Commit(CatalogAction.Updated, model.Id, actor, now, Differences(before, model)));
    }

    public CatalogChange Remove(string id, long? expectedRevision, string actor, DateTimeOffset now)
    {
        var index = IndexOf(id, expectedRevision);
        state.Models.RemoveAt(index);
        state.Removed.Add(new RemovedModel(id, now, state.Version + 1, now + removalGrace));
        return Commit(CatalogAction.Removed, id, actor, now, "routing stops choosing it; its statistics and history stay readable");
    }

    /// <summary>Removed models whose live state no window reaches any more (their last record was taken longer ago than <paramref name="liveSpan"/>), not yet purged.</summary>
    public IReadOnlyList<string> DueForPurge(DateTimeOffset now, TimeSpan liveSpan) =>
        [.. state.Removed.Where(r => !r.Purged && r.RecordsUntil + liveSpan <= now).Select(r => r.Id)];

    public CatalogChange? MarkPurged(string id, DateTimeOffset now)
    {
        var index = state.Removed.FindIndex(r => r.Id == id && !r.Purged);
        if (index < 0) return null;
        state.Removed[index] = state.Removed[index] with { Purged = true, Revision = state.Version + 1 };
        return Commit(CatalogAction.Purged, id, "kyros", now, "its recent records and checkpoints were deleted; history keeps its minutes and hours");
    }

    private int IndexOf(string id, long? expectedRevision)
    {
        var index = state.Models.FindIndex(e => e.Model.Id == id);
        if (index < 0)
            throw new CatalogModelNotFoundException(state.Removed.Any(r => r.Id == id)
                ? $"Model '{id}' was removed from the catalog; POST /v1/models adds it again."
                : $"Model '{id}' is not in the catalog.");
        var revision = state.Models[index].Revision;
        if (expectedRevision is { } expected && expected != revision)
            throw new CatalogRevisionException($"Model '{id}' is at revision {revision}, not {expected}: it changed since it was read. Read it again and repeat the change.");
        return index;
    }

    private CatalogChange Commit(CatalogAction action, string model, string actor, DateTimeOffset now, string detail)
    {
        state.Version++;
        _snapshot = null;
        var change = new CatalogChange(state.Version, now, action, model, actor, detail);
        state.Changes.Add(change);
        if (state.Changes.Count > changeHistory) state.Changes.RemoveRange(0, state.Changes.Count - changeHistory);
        return change;
    }

    private static string Price(double price) => price.ToString("0.######", CultureInfo.InvariantCulture);

    /// <summary>What an update changed, field by field as the API names them: <c>input_price_per1k 0.03 -> 0.02</c>.</summary>
    public static string Differences(ModelDescriptor before, ModelDescriptor after)
    {
        var changes = new List<string>();
        Compare(JsonSerializer.SerializeToElement(before, KyrosJson.Options), JsonSerializer.SerializeToElement(after, KyrosJson.Options), "", changes);
        return changes.Count == 0 ? "no field changed" : string.Join("; ", changes);
    }

    private static void Compare(JsonElement before, JsonElement after, string prefix, List<string> changes)
    {
        foreach (var property in after.EnumerateObject())
        {
            var name = prefix + property.Name;
            var old = before.TryGetProperty(property.Name, out var o) ? o : default;
            if (property.Value.ValueKind == JsonValueKind.Object && old.ValueKind == JsonValueKind.Object) Compare(old, property.Value, name + ".", changes);
            else if (old.ValueKind == JsonValueKind.Undefined || old.GetRawText() != property.Value.GetRawText())
                changes.Add($"{name} {(old.ValueKind == JsonValueKind.Undefined ? "unset" : old.GetRawText())} -> {property.Value.GetRawText()}");
        }
    }
}
