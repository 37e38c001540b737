using Kyros.Perf.Gateway;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>The SDK's gateway calls on a TestingHost cluster with the default, simulated catalog.</summary>
public sealed class GatewayClusterTests(SharedCluster cluster) : IClassFixture<SharedCluster>
{
    [Fact]
    public async Task Generate_through_the_sdk_then_feedback_lands_once_as_that_requests_quality()
    {
        var client = cluster.Value.Client;
        var result = await client.GenerateAsync(new GenerateRequest { Prompt = "Explain quantum computing", Strategy = Kyros.Perf.Routing.RoutingStrategy.CostEffective, MaxTokens = 20, Candidates = ["gpt-3.5-turbo", "local-llama"] });
        Assert.True(result.Simulated);
        Assert.StartsWith("[simulated]", result.Text);
        Assert.Equal(20, result.Usage.OutputTokens);
        var model = (await client.GetModelsAsync()).Single(m => m.Id == result.Model);
        Assert.Equal((result.Usage.InputTokens * model.InputPricePer1k + 20 * model.OutputPricePer1k) / 1000, result.Cost, 12);

        Assert.True(await client.FeedbackAsync(result.RequestId, 0.4));
        Assert.False(await client.FeedbackAsync(result.RequestId, 0.9));
        var summary = await client.GetSummaryAsync(result.Model, TimeSpan.FromMinutes(5));
        Assert.Equal((0.4, 1L), (summary.Quality.Mean!.Value, summary.Quality.Count));

        // Each model is routed and recorded on its own encoding's count of the conversation.
        const string prompt = "Объясни квантовые вычисления простыми словами. 量子コンピューターを説明してください。";
        var gpt4 = await client.GenerateAsync(new GenerateRequest { Prompt = prompt, Model = "gpt-4", MaxTokens = 5 });
        Assert.Equal(Kyros.Perf.Routing.PromptTokens.Count(prompt, "cl100k"), gpt4.Usage.InputTokens);
        Assert.Equal(gpt4.Usage.InputTokens, gpt4.Decision.EstimatedTokens);
        var claude = await client.GenerateAsync(new GenerateRequest { Prompt = prompt, Model = "claude", MaxTokens = 5 });
        Assert.Equal(Kyros.Perf.Routing.PromptTokens.Count(prompt), claude.Usage.InputTokens);
        Assert.True(gpt4.Usage.InputTokens > claude.Usage.InputTokens);

        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => client.FeedbackAsync("gen.Y2xhdWRl.1.00000000000000000000000000000000", 0.5));
        Assert.Equal("request_id", unknown.ParamName);
        var bad = await Assert.ThrowsAsync<ArgumentException>(() => client.GenerateAsync(new GenerateRequest { Prompt = "x", Temperature = 9 }));
        Assert.Equal("temperature", bad.ParamName);
        var empty = await Assert.ThrowsAsync<ArgumentException>(() => client.GenerateAsync(new GenerateRequest { Prompt = "x", Candidates = ["gpt-4", null!] }));
        Assert.Equal("available_models[1]", empty.ParamName);
    }
}
