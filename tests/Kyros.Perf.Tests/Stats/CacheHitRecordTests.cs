using System.Buffers;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Tests.Stats;

/// <summary>A cache hit through the record codec, the aggregate's stored form and the summary; older stored data reads as no hits.</summary>
public sealed class CacheHitRecordTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 10, 0, 0, TimeSpan.Zero);

    private static ModelPerformanceRecord Called(string id) => new("m", null, At, 1.5, 0.4, 100, 50, true, null, 0.02, null, id);
    private static ModelPerformanceRecord Hit(string id) => new("m", null, At, 0.0001, 0.0001, 100, 50, true, null, 0, null, id) { CacheHit = true, CostSaved = 0.02 };

    [Fact]
    public void A_cache_hit_and_its_saved_cost_come_back_from_the_compact_codec()
    {
        var codec = new CompactRecordCodec("m", numberNames: false);
        foreach (var record in new[] { Hit("r1"), Called("r2") })
        {
            var buffer = new ArrayBufferWriter<byte>();
            codec.WriteBody(buffer, record, At.ToUnixTimeMilliseconds());
            var reader = new SpanReader(buffer.WrittenSpan);
            Assert.Equal(record, codec.ReadBody(ref reader, "m", record.RequestId, At.ToUnixTimeMilliseconds()));
        }
    }

    [Fact]
    public void The_summary_counts_hits_their_rate_and_the_saved_cost_and_keeps_hits_out_of_latency()
    {
        var aggregate = new MetricsAggregate();
        aggregate.Add(Called("a"));
        aggregate.Add(Hit("b"));
        aggregate.Add(Hit("c"));
        aggregate.Add(Called("d"));
        var stored = MetricsAggregate.FromBytes(aggregate.ToBytes());
        var summary = ModelSummary.Create("m", "1h", At, At.AddHours(1), stored);
        Assert.Equal(4, summary.Count);
        Assert.Equal(2, summary.CacheHits);
        Assert.Equal(0.5, summary.CacheHitRate);
        Assert.Equal(0.04, summary.CostSaved, 10);
        Assert.Equal(0.04, summary.Cost.Total, 10);
        Assert.Equal(2, summary.Latency.SampleCount);
        Assert.Equal(1.5, summary.Latency.P50!.Value, 1);
    }

    [Fact]
    public void An_aggregate_stored_before_the_cache_reads_as_no_hits()
    {
        var old = new MetricsAggregate();
        old.Add(Called("a"));
        var bytes = old.ToBytes();
        var read = MetricsAggregate.FromBytes(bytes);
        Assert.Equal(1, read.Count);
        Assert.Equal(0, read.CacheHits);
        Assert.Equal(0, read.CostSaved);
    }

    [Fact]
    public void Saved_cost_is_refused_on_a_record_that_is_no_hit()
    {
        var error = Assert.Throws<ArgumentException>(() => RecordValidator.Validate(Called("a") with { CostSaved = 1 }, At));
        Assert.Equal("cost_saved", error.ParamName);
    }
}
