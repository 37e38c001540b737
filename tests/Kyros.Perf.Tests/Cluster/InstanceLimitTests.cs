using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Cluster;

public sealed class InstanceLimitTests(RedisServer redis)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task The_instance_limit_holds_under_concurrency_and_names_the_record_in_the_whole_batch()
    {
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 1,
            settings: new Dictionary<string, string?> { ["Kyros:ModelStats:MaxInstancesPerModel"] = "3" });
        var client = cluster.Client;

        // Ten callers, each with a new instance, interleave on one grain: exactly three fit.
        var calls = Enumerable.Range(0, 10).Select(i => client.RecordAsync(Records.Valid("claude") with { Instance = $"pod-{i}" })).ToArray();
        var outcomes = await Task.WhenAll(calls.Select(async c =>
        {
            try
            {
                // Stored by this call: a try the SDK gave up and sent again reports its own record as a duplicate.
                var result = await c;
                return result.Recorded + result.Duplicates;
            }
            catch (ArgumentException exception) when (exception.ParamName == "instance")
            {
                return -1;
            }
        }));
        Assert.Equal(3, outcomes.Count(o => o == 1));
        Assert.Equal(7, outcomes.Count(o => o == -1));
        var admitted = await client.GetInstanceSummariesAsync("claude", Hour);
        Assert.Equal(3, admitted.Count);

        // Record 2 of the whole batch is claude's second: the error names it by its place in the batch.
        var batch = new[] { Records.Valid("gpt-4") with { Instance = "a" }, Records.Valid("claude") with { Instance = admitted[0].Instance }, Records.Valid("claude") with { Instance = "pod-new" } };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.RecordBatchAsync(batch));
        Assert.Equal("[2].instance", error.ParamName);
        Assert.Contains("pod-new", error.Message);
        Assert.Equal(3, (await client.GetSummaryAsync("claude", Hour)).Count);
    }
}
