using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Resources;

public sealed class ScalingAdvisorTests
{
    private static readonly ResourceOptions Options = new();

    [Fact]
    public void Busy_groups_scale_out_idle_groups_scale_in_and_the_rest_hold_with_their_figures()
    {
        NodeUsage[] usage =
        [
            new("gpu-1", "gpu", 30, 92, 1, 30, 85, 1),
            new("gpu-2", "gpu", 35, 88, 1, 30, 80, 1),
            new("api-1", "api", 10, null, 1, 8, null, 1),
            new("api-2", "api", 12, null, 1, 9, null, 1),
            new("web-1", "web", 50, null, 1, 45, null, 1),
        ];
        var advice = ScalingAdvisor.Advise(usage, Options).ToDictionary(r => r.Scope);

        Assert.Equal(ScalingAction.ScaleOut, advice["gpu"].Action);
        Assert.Equal(90, advice["gpu"].RecentGpu);
        Assert.Contains("GPU 90%", advice["gpu"].Reason);
        Assert.Equal(ScalingAction.ScaleIn, advice["api"].Action);
        Assert.Equal(ScalingAction.Hold, advice["web"].Action);
        // Across the cluster the GPU hosts' mean is what passes the bound.
        Assert.Equal(ScalingAction.ScaleOut, advice["cluster"].Action);
        Assert.Equal(90, advice["cluster"].RecentGpu);
        Assert.Equal(5, advice["cluster"].Hosts);
        Assert.True(advice["gpu"].Confidence > 0.6);
    }

    [Fact]
    public void Too_few_samples_or_a_single_idle_host_hold()
    {
        var sparse = ScalingAdvisor.Advise([new NodeUsage("a", "default", 99, null, 0.3, 99, null, 0.05)], Options)[0];
        Assert.Equal(ScalingAction.Hold, sparse.Action);
        Assert.Contains("Not enough samples", sparse.Reason);
        Assert.True(sparse.Confidence < 0.5);

        var lone = ScalingAdvisor.Advise([new NodeUsage("a", "default", 5, null, 1, 5, null, 1)], Options)[0];
        Assert.Equal(ScalingAction.Hold, lone.Action);
        Assert.Contains("only host", lone.Reason);
    }
}
