using Kyros.Perf.Catalog;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Tests.Catalog;

public sealed class ModelCatalogTests
{
    [Fact]
    public void An_unknown_model_is_refused_naming_the_field_and_a_large_catalog_is_listed_in_part()
    {
        var small = new ModelCatalog(Options.Create(new ModelCatalogOptions { Models = [.. DefaultCatalog.Create()] }));
        var error = Assert.Throws<ArgumentException>(() => small.EnsureKnown("gpt-5", "[3].model"));
        Assert.Equal("[3].model", error.ParamName);
        Assert.Contains("gpt-4, gpt-3.5-turbo, claude, gemini-pro, local-llama", error.Message);

        var large = new ModelCatalog(Options.Create(new ModelCatalogOptions
        {
            Models = [.. Enumerable.Range(0, 10_000).Select(i => new ModelDescriptor { Id = $"model-{i:D4}" })],
        }));
        error = Assert.Throws<ArgumentException>(() => large.EnsureKnown("gpt-5"));
        Assert.Contains("model-0019 and 9980 more; GET /v1/models lists them", error.Message);
        Assert.DoesNotContain("model-0020", error.Message);
        Assert.True(error.Message.Length < 500);
    }

    [Fact]
    public void A_silo_takes_only_newer_versions_and_keeps_unchanged_models_descriptors()
    {
        var catalog = new ModelCatalog(Options.Create(new ModelCatalogOptions { Models = [.. DefaultCatalog.Create()] }));
        Assert.Equal(0, catalog.Current.Version);
        var v2 = Snapshot(2, ("gpt-4", 1), ("vllm", 2));
        Assert.True(catalog.Apply(v2));
        var gpt4 = catalog.Find("gpt-4");
        Assert.False(catalog.Apply(Snapshot(1, ("old", 1))));
        Assert.Equal(["gpt-4", "vllm"], catalog.Models.Select(m => m.Id));

        // A newer version whose gpt-4 is at the same revision keeps its descriptor (and so its provider client).
        Assert.True(catalog.Apply(Snapshot(3, ("gpt-4", 1), ("vllm", 3))));
        Assert.Same(gpt4, catalog.Find("gpt-4"));
        Assert.True(catalog.Apply(Snapshot(4, ("gpt-4", 4))));
        Assert.NotSame(gpt4, catalog.Find("gpt-4"));
    }

    [Fact]
    public void A_removed_model_is_readable_and_takes_records_only_within_the_grace_period()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));
        var catalog = new ModelCatalog(Options.Create(new ModelCatalogOptions()), time);
        catalog.Apply(new CatalogSnapshot(2, [new CatalogEntry(new ModelDescriptor { Id = "kept" }, 1)], [new RemovedModel("gone", time.GetUtcNow(), 2, time.GetUtcNow().AddMinutes(5))]));

        Assert.False(catalog.Contains("gone"));
        Assert.True(catalog.IsReadable("gone"));
        catalog.EnsureRecordable("gone");
        time.Advance(TimeSpan.FromMinutes(5));
        var error = Assert.Throws<ModelRemovedException>(() => catalog.EnsureRecordable("gone", "[2].model"));
        Assert.Contains("[2].model 'gone' was removed", error.Message);
        Assert.True(catalog.IsReadable("gone"));
        Assert.Throws<ArgumentException>(() => catalog.EnsureReadable("never"));
    }

    private static CatalogSnapshot Snapshot(long version, params (string Id, long Revision)[] models) =>
        new(version, [.. models.Select(m => new CatalogEntry(new ModelDescriptor { Id = m.Id }, m.Revision))], []);
}
