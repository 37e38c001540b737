using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Cluster;

public sealed class ModelStatsGrainTests(SharedCluster cluster) : IClassFixture<SharedCluster>
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public async Task Recorded_figures_come_back_in_the_summary()
    {
        var client = cluster.Value.Client;
        var latencies = Records.LogNormalSeconds(3_000, seed: 21);
        var records = latencies.Select((s, i) => Records.Valid("gpt-4", s, DateTimeOffset.UtcNow.AddSeconds(-i % 600)) with
        {
            Success = i % 50 != 0,
            ErrorKind = i % 50 == 0 ? "rate_limit" : null,
        }).ToArray();

        var before = await client.GetSummaryAsync("gpt-4", Hour);
        Assert.Equal(0, before.Count);
        var half = records.Length / 2;
        foreach (var record in records.Take(10)) Assert.Equal(new RecordResult(1, 0), await client.RecordAsync(record));
        Assert.Equal(new RecordResult(half - 10, 0), await client.RecordBatchAsync(records[10..half]));
        Assert.Equal(new RecordResult(records.Length - half, 0), await client.RecordBatchAsync(records[half..]));

        var after = await client.GetSummaryAsync("gpt-4", Hour);
        Assert.Equal(before.Count + 3_000, after.Count);
        Assert.Equal(before.ErrorsByKind.GetValueOrDefault("rate_limit") + 60, after.ErrorsByKind["rate_limit"]);
        // gpt-4 is this test's alone in the shared cluster.
        Assert.Equal(0, before.Count);
        var exact = Records.ExactQuantile(latencies, 0.99);
        Assert.InRange(after.Latency.P99!.Value, exact * 0.99, exact * 1.01);
        Assert.Equal(latencies.Max(), after.Latency.Max);
        Assert.Equal(3_000 * 0.03, after.Cost.Total, 6);
        Assert.Equal(0.03, after.Cost.PerRequest!.Value, 9);
    }

    [Fact]
    public async Task A_request_id_counts_once()
    {
        var client = cluster.Value.Client;
        var record = Records.Valid("gpt-3.5-turbo");
        var before = (await client.GetSummaryAsync("gpt-3.5-turbo", Hour)).Count;

        Assert.Equal(new RecordResult(1, 0), await client.RecordAsync(record));
        Assert.Equal(new RecordResult(0, 1), await client.RecordAsync(record with { ExecutionTime = 9 }));
        Assert.Equal(new RecordResult(1, 2), await client.RecordBatchAsync([record, Records.Valid("gpt-3.5-turbo"), record]));

        Assert.Equal(before + 2, (await client.GetSummaryAsync("gpt-3.5-turbo", Hour)).Count);
    }

    [Fact]
    public async Task Bad_input_through_the_sdk_names_the_field_and_records_nothing()
    {
        var client = cluster.Value.Client;
        var before = (await client.GetSummaryAsync("gemini-pro", Hour)).Count;

        var local = await Assert.ThrowsAsync<ArgumentException>(() => client.RecordAsync(Records.Valid("gemini-pro") with { TimeToFirstToken = 5, ExecutionTime = 1 }));
        Assert.Equal("time_to_first_token", local.ParamName);
        var batch = await Assert.ThrowsAsync<ArgumentException>(() => client.RecordBatchAsync([Records.Valid("gemini-pro"), Records.Valid("gemini-pro") with { QualityScore = 3 }]));
        Assert.Equal("[1].quality_score", batch.ParamName);
        // The catalog lives on the silo: this one is refused by the grain and still names the field.
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => client.RecordAsync(Records.Valid("no-such-model")));
        Assert.Equal("model", unknown.ParamName);
        var mixed = await Assert.ThrowsAsync<ArgumentException>(() => client.RecordBatchAsync([Records.Valid("gemini-pro"), Records.Valid("no-such-model")]));
        Assert.Equal("[1].model", mixed.ParamName);
        Assert.Equal("window", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetSummaryAsync("gemini-pro", TimeSpan.FromHours(25)))).ParamName);

        Assert.Equal(before, (await client.GetSummaryAsync("gemini-pro", Hour)).Count);
    }

    [Fact]
    public async Task The_cluster_summary_is_the_merge_of_every_models_sketch()
    {
        var client = cluster.Value.Client;
        // Two models with very different latencies: an average of their p99s is far from the p99 of both.
        await client.RecordBatchAsync(Records.LogNormalSeconds(500, seed: 1, median: 0.2).Select(s => Records.Valid("gpt-3.5-turbo", s)).ToArray());
        await client.RecordBatchAsync(Records.LogNormalSeconds(500, seed: 2, median: 5).Select(s => Records.Valid("claude", s)).ToArray());

        var summary = await client.GetClusterSummaryAsync(Hour);
        Assert.Equal(Kyros.Perf.Catalog.DefaultCatalog.Create().Select(m => m.Id), summary.Models.Select(m => m.Model));
        Assert.Equal(summary.Models.Sum(m => m.Count), summary.Cluster.Count);

        var merged = new QuantileSketch();
        foreach (var model in summary.Models)
            merged.Merge((await cluster.Value.Cluster.Client.GetGrain<IModelStatsGrain>(model.Model).GetAggregateAsync(Hour)).Latency);
        Assert.Equal(merged.Quantile(0.99), summary.Cluster.Latency.P99);
        Assert.Equal(merged.Quantile(0.5), summary.Cluster.Latency.P50);
    }

    [Fact]
    public async Task A_catalog_model_without_records_has_an_empty_summary()
    {
        // gemini-pro only ever sees refused records in this class.
        var empty = await cluster.Value.Client.GetSummaryAsync("gemini-pro", TimeSpan.FromMinutes(1));
        Assert.Equal(0, empty.Count);
        Assert.Null(empty.Latency.P50);
        Assert.Null(empty.Cost.PerRequest);
        Assert.Null(empty.Quality.Mean);
        Assert.Equal(0, empty.ErrorRate);
        Assert.Equal("1m", empty.Window);
    }

    [Fact]
    public async Task Instances_have_their_own_summaries_and_merge_exactly_into_the_model()
    {
        var client = cluster.Value.Client;
        var fast = Records.LogNormalSeconds(400, seed: 31, median: 0.3);
        var slow = Records.LogNormalSeconds(400, seed: 32, median: 3);
        await client.RecordBatchAsync(fast.Select(s => Records.Valid("local-llama", s) with { Instance = "gpu-a" }).ToArray());
        await client.RecordBatchAsync(slow.Select(s => Records.Valid("local-llama", s) with { Instance = "gpu-b" }).ToArray());

        var instances = await client.GetInstanceSummariesAsync("local-llama", Hour);
        Assert.Equal(["gpu-a", "gpu-b"], instances.Select(i => i.Instance));
        Assert.All(instances, i => Assert.Equal(400, i.Count));
        var exactB = Records.ExactQuantile(slow, 0.95);
        Assert.InRange(instances[1].Latency.P95!.Value, exactB * 0.99, exactB * 1.01);

        var one = await client.GetSummaryAsync("local-llama", Hour, "gpu-a");
        Assert.Equal(("gpu-a", instances[0].Count, instances[0].Latency), (one.Instance, one.Count, one.Latency));

        // local-llama is this test's alone: the model is exactly its two instances.
        var model = await client.GetSummaryAsync("local-llama", Hour);
        Assert.Equal(800, model.Count);
        var exact = Records.ExactQuantile([.. fast, .. slow], 0.99);
        Assert.InRange(model.Latency.P99!.Value, exact * 0.99, exact * 1.01);
        var merged = Sketch(fast);
        merged.Merge(Sketch(slow));
        Assert.Equal(merged.Quantile(0.99), model.Latency.P99);
        Assert.Equal("instance", (await Assert.ThrowsAsync<ArgumentException>(() => client.GetSummaryAsync("local-llama", Hour, "gpu-z"))).ParamName);
    }

    private static QuantileSketch Sketch(IEnumerable<double> values)
    {
        var sketch = new QuantileSketch();
        foreach (var v in values) sketch.Add(v);
        return sketch;
    }
}
