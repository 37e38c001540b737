using Microsoft.Extensions.DependencyInjection;
using Kyros.Perf.Routing;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Routing;

/// <summary>The router on real grains: model statistics flow from the model grains to every silo's snapshot.</summary>
public sealed class RoutingClusterTests(SharedCluster cluster) : IClassFixture<SharedCluster>
{
    [Fact]
    public async Task Adaptive_routing_moves_away_from_a_model_whose_latency_degrades()
    {
        var client = cluster.Value.Client;
        string[] pair = ["claude", "gemini-pro"];
        var request = new RoutingRequest(new RequestFeatures { EstimatedTokens = 500 }, pair, RoutingStrategy.Adaptive);
        foreach (var model in pair)
            await client.RecordBatchAsync(Enumerable.Range(0, 500).Select(_ => Records.Valid(model, 0.8)).ToArray());
        var before = await Eventually.UntilAsync(() => client.RouteAsync(request), d => d.Candidates.All(c => c.Latency.Samples >= 500));

        // The chosen model slows down to 8 s; within a snapshot interval or two the router prefers the other.
        await client.RecordBatchAsync(Enumerable.Range(0, 2_000).Select(_ => Records.Valid(before.SelectedModel, 8)).ToArray());
        var after = await Eventually.UntilAsync(() => client.RouteAsync(request), d => d.SelectedModel != before.SelectedModel);
        var slowed = after.Candidates.Single(c => c.Model == before.SelectedModel);
        Assert.True(slowed.Latency.Value > 5, $"p95 seen by the router: {slowed.Latency.Value}");
        Assert.InRange(after.SnapshotAgeSeconds, 0, 1.5);
        Assert.Equal([before.SelectedModel], after.FallbackOrder);
    }

    [Fact]
    public async Task Errors_cross_to_the_sdk_with_their_field_or_their_reasons()
    {
        var client = cluster.Value.Client;
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() =>
            client.RouteAsync(new RoutingRequest(new RequestFeatures(), ["gpt-4", "no-such-model"])));
        Assert.Equal("available_models[1]", unknown.ParamName);
        Assert.Equal("request_features.creativity_requirement", (await Assert.ThrowsAsync<ArgumentException>(() =>
            client.RouteAsync(new RoutingRequest(new RequestFeatures { CreativityRequirement = 2 })))).ParamName);

        var none = await Assert.ThrowsAsync<NoCandidateException>(() =>
            client.RouteAsync(new RoutingRequest(new RequestFeatures { RequiresVision = true }, ["gpt-3.5-turbo", "local-llama"])));
        Assert.Equal(["gpt-3.5-turbo", "local-llama"], none.Rejected.Select(r => r.Model));
        Assert.All(none.Rejected, r => Assert.Contains("vision", r.Reason));

        var top = await client.RecommendAsync(new RoutingRequest(new RequestFeatures(), null, RoutingStrategy.CostEffective), 2);
        Assert.Equal(2, top.Count);
        Assert.Equal("local-llama", top[0].SelectedModel);
    }

    [Fact]
    public async Task Overlapping_sdk_calls_each_get_their_own_decision_or_error()
    {
        var client = cluster.Value.Client;
        var calls = Enumerable.Range(0, 30).Select(i => (i % 3) switch
        {
            0 => client.RouteAsync(new RoutingRequest(new RequestFeatures { EstimatedTokens = 100 + i }, ["gpt-4", "claude"])),
            1 => client.RouteAsync(new RoutingRequest(new RequestFeatures { RequiresVision = true }, ["gpt-3.5-turbo", "local-llama"])),
            _ => client.RouteAsync(new RoutingRequest(new RequestFeatures(), ["gpt-4", "no-such-model"])),
        }).ToArray();
        for (var i = 0; i < calls.Length; i++)
        {
            switch (i % 3)
            {
                case 0:
                    Assert.Equal(100 + i, (await calls[i]).EstimatedTokens);
                    break;
                case 1:
                    Assert.Equal(["gpt-3.5-turbo", "local-llama"], (await Assert.ThrowsAsync<NoCandidateException>(() => calls[i])).Rejected.Select(r => r.Model));
                    break;
                default:
                    Assert.Equal("available_models[1]", (await Assert.ThrowsAsync<ArgumentException>(() => calls[i])).ParamName);
                    break;
            }
        }
    }

    [Fact]
    public async Task A_batch_of_requests_answers_each_in_order()
    {
        var router = cluster.Value.Cluster.Client.GetGrain<IRouterGrain>(0);
        var outcomes = await router.SelectModelsAsync([
            new RoutingRequest(new RequestFeatures { EstimatedTokens = 7 }, ["claude"]),
            new RoutingRequest(new RequestFeatures { RequiresVision = true }, ["local-llama"]),
            new RoutingRequest(new RequestFeatures { EstimatedTokens = 9 }, ["gemini-pro"]),
        ]);
        Assert.Equal(("claude", 7L), (outcomes[0].Decision!.SelectedModel, outcomes[0].Decision!.EstimatedTokens));
        Assert.Contains("vision", Assert.IsType<NoCandidateException>(outcomes[1].Error).Rejected.Single().Reason);
        Assert.Equal("gemini-pro", outcomes[2].Decision!.SelectedModel);
        Assert.Contains("requests", (await Assert.ThrowsAsync<ArgumentException>(() => router.SelectModelsAsync([]))).Message);
    }
}
