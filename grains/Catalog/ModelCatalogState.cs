namespace Kyros.Perf.Catalog;

/// <summary>The catalog grain's state: the models at their revisions, the models removed, and the changes made.</summary>
[GenerateSerializer, Alias("kyros.ModelCatalogState")]
public sealed class ModelCatalogState
{
    /// <summary>0 until the catalog is first seeded from configuration.</summary>
    [Id(0)] public long Version { get; set; }
    [Id(1)] public List<CatalogEntry> Models { get; set; } = [];
    [Id(2)] public List<RemovedModel> Removed { get; set; } = [];
    /// <summary>The newest changes, oldest first.</summary>
    [Id(3)] public List<CatalogChange> Changes { get; set; } = [];
}
