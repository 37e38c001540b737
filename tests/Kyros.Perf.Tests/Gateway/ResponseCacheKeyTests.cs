using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>The exact response cache's key and what it caches, as plain code.</summary>
public sealed class ResponseCacheKeyTests
{
    private static GenerateRequest Request(string schema = """{"type":"object","properties":{"city":{"type":"string"}}}""", double? temperature = 0,
        string text = "Weather in Paris?", string? model = "gpt-x") => new()
    {
        Model = model,
        Messages = [new ChatTurn("system", "Be brief."), new ChatTurn("user", text)],
        Temperature = temperature,
        Tools = [new ToolDefinition("get_weather", "The weather", schema)],
        MaxTokens = 100,
    };

    [Fact]
    public void Field_order_and_whitespace_of_the_callers_json_do_not_change_the_key()
    {
        var compact = Request();
        var spaced = Request("""
            {
              "properties": { "city": { "type" : "string" } },
              "type": "object"
            }
            """);
        Assert.Equal(ResponseCacheKey.Compute(compact), ResponseCacheKey.Compute(spaced));
        Assert.Matches("^[0-9a-f]{64}$", ResponseCacheKey.Compute(compact));
    }

    [Fact]
    public void A_different_temperature_message_tool_or_model_is_a_different_key()
    {
        var key = ResponseCacheKey.Compute(Request());
        string[] others =
        [
            ResponseCacheKey.Compute(Request(temperature: 0.5)),
            ResponseCacheKey.Compute(Request(text: "Weather in Rome?")),
            ResponseCacheKey.Compute(Request("""{"type":"object","properties":{"town":{"type":"string"}}}""")),
            ResponseCacheKey.Compute(Request(model: "gpt-y")),
            ResponseCacheKey.Compute(Request(model: null)),
            ResponseCacheKey.Compute(Request() with { Seed = 7 }),
            ResponseCacheKey.Compute(Request() with { Stop = ["\n"] }),
            ResponseCacheKey.Compute(Request() with { MaxTokens = 101 }),
            ResponseCacheKey.Compute(Request() with { ResponseFormat = new ResponseFormat(ResponseFormat.JsonObject) }),
            ResponseCacheKey.Compute(Request() with { TopP = 0.9 }),
        ];
        Assert.DoesNotContain(key, others);
        Assert.Equal(others.Length, others.Distinct().Count());
    }

    [Fact]
    public void A_routed_request_keys_on_its_strategy_and_candidates()
    {
        var auto = Request(model: null) with { Strategy = RoutingStrategy.Adaptive };
        Assert.NotEqual(ResponseCacheKey.Compute(auto), ResponseCacheKey.Compute(auto with { Strategy = RoutingStrategy.CostEffective }));
        Assert.NotEqual(ResponseCacheKey.Compute(auto), ResponseCacheKey.Compute(auto with { Candidates = ["a", "b"] }));
        Assert.Equal(ResponseCacheKey.Compute(auto), ResponseCacheKey.Compute(Request(model: null) with { Strategy = RoutingStrategy.Adaptive }));
    }

    [Fact]
    public void Only_deterministic_single_answers_are_cacheable_unless_the_header_asks()
    {
        Assert.True(ResponseCacheKey.IsCacheable(Request(temperature: 0), askedByHeader: false));
        Assert.True(ResponseCacheKey.IsCacheable(Request(temperature: 0.7) with { Seed = 1 }, askedByHeader: false));
        Assert.False(ResponseCacheKey.IsCacheable(Request(temperature: 0.7), askedByHeader: false));
        Assert.False(ResponseCacheKey.IsCacheable(Request(temperature: null), askedByHeader: false));
        Assert.True(ResponseCacheKey.IsCacheable(Request(temperature: 0.7), askedByHeader: true));
        Assert.False(ResponseCacheKey.IsCacheable(Request() with { Choices = 2 }, askedByHeader: true));
        Assert.False(ResponseCacheKey.IsCacheable(Request() with { Logprobs = true }, askedByHeader: true));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(86_401)]
    public void A_catalog_cache_ttl_outside_a_day_is_refused_naming_the_field(int seconds)
    {
        var error = Assert.Throws<ArgumentException>(() => Kyros.Perf.Catalog.ModelDescriptorValidator.Validate(new Kyros.Perf.Catalog.ModelDescriptor { Id = "m", CacheTtlSeconds = seconds }));
        Assert.Equal("cache_ttl_seconds", error.ParamName);
        Kyros.Perf.Catalog.ModelDescriptorValidator.Validate(new Kyros.Perf.Catalog.ModelDescriptor { Id = "m", CacheTtlSeconds = 86_400 });
    }
}
