using Kyros.Perf.Catalog;

namespace Kyros.Perf.Tests.Catalog;

/// <summary><c>Kyros:Catalog:File</c>: a large catalog read from a JSON file, and a clear start-up error when it cannot be.</summary>
public sealed class CatalogFileTests
{
    [Fact]
    public void Models_in_the_file_join_the_configured_ones_and_ten_thousand_read_in_a_moment()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kyros-catalog-").FullName, "catalog.json");
        var models = string.Join(",", Enumerable.Range(0, 10_000).Select(i =>
            $$$"""{"Id": "model-{{{i:D4}}}", "InputPricePer1k": 0.001, "OutputPricePer1k": 0.002, "Capabilities": {"Code": true, "Reasoning": 0.7}}"""));
        File.WriteAllText(path, $$"""{"Models": [{{models}}]}""");
        var options = new ModelCatalogOptions { File = path, Models = [new ModelDescriptor { Id = "configured" }] };

        new DefaultCatalogSetup().PostConfigure(null, options);

        Assert.Equal(10_001, options.Models.Count);
        Assert.Equal("model-9999", options.Models[^1].Id);
        Assert.True(options.Models[5].Capabilities.Code);
        Assert.Equal(0.7, options.Models[5].Capabilities.Reasoning);
        Assert.True(new ModelCatalogOptionsValidator().Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData("missing.json", false)]
    [InlineData("broken.json", true)]
    public void A_file_that_cannot_be_read_fails_validation_naming_the_setting(string file, bool exists)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("kyros-catalog-").FullName, file);
        if (exists) File.WriteAllText(path, """{"Models": [{"Id": "a",""");
        var options = new ModelCatalogOptions { File = path };

        new DefaultCatalogSetup().PostConfigure(null, options);

        var result = new ModelCatalogOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Kyros:Catalog:File", result.FailureMessage);
        // No default catalog stands in for a file that was meant to be read.
        Assert.Empty(options.Models);
    }
}
