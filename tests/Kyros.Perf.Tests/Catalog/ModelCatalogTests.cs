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
}
