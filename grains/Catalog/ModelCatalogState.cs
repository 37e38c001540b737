namespace Kyros.Perf.Catalog;

/// <summary>
/// The catalog grain's state: the models at their revisions (packed with Orleans' serializer, see
/// <see cref="ModelCatalogGrain"/>), the models removed, and the changes made.
/// </summary>
[GenerateSerializer, Alias("kyros.ModelCatalogState")]
public sealed class ModelCatalogState
{
    /// <summary>0 until the catalog is first seeded from configuration.</summary>
    [Id(0)] public long Version { get; set; }
    /// <summary>
    /// The models in Orleans' binary form: grain storage writes state as JSON, which for ten thousand models took most of
    /// a second per edit; packed, the write is a few megabytes of bytes.
    /// </summary>
    [Id(4)] public byte[]? PackedModels { get; set; }
    [Id(2)] public List<RemovedModel> Removed { get; set; } = [];
    /// <summary>The newest changes, oldest first.</summary>
    [Id(3)] public List<CatalogChange> Changes { get; set; } = [];

    /// <summary>The models, unpacked (not stored as they are: see <see cref="PackedModels"/>).</summary>
    [NonSerialized] internal List<CatalogEntry> Models = [];
}
