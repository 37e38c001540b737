using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Stats;

public sealed class QuantileSketchTests
{
    private static readonly double[] Quantiles = [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1];

    [Fact]
    public void Every_quantile_is_within_one_percent_over_100_microseconds_to_10_minutes()
    {
        // Log-uniform over the whole range the guarantee is claimed for.
        var random = new Random(7);
        var values = Enumerable.Range(0, 200_000).Select(_ => Math.Exp(Math.Log(1e-4) + random.NextDouble() * (Math.Log(600) - Math.Log(1e-4)))).ToArray();
        var sketch = new QuantileSketch();
        foreach (var v in values) sketch.Add(v);

        foreach (var q in Quantiles)
        {
            var exact = Records.ExactQuantile(values, q);
            var estimate = sketch.Quantile(q)!.Value;
            Assert.True(Math.Abs(estimate - exact) <= QuantileSketch.RelativeAccuracy * exact + 1e-12,
                $"q={q}: estimate {estimate} vs exact {exact} ({Math.Abs(estimate - exact) / exact:P3})");
        }
        Assert.Equal(values.Length, sketch.Count);
        Assert.Equal(values.Max(), sketch.Max);
        Assert.Equal(values.Min(), sketch.Min);
    }

    [Fact]
    public void A_merge_of_parts_answers_exactly_as_one_sketch_of_everything()
    {
        var values = Records.LogNormalSeconds(30_000, seed: 3);
        var whole = new QuantileSketch();
        var parts = new[] { new QuantileSketch(), new QuantileSketch(), new QuantileSketch() };
        for (var i = 0; i < values.Length; i++)
        {
            whole.Add(values[i]);
            parts[i % 3].Add(values[i]);
        }
        var merged = new QuantileSketch();
        foreach (var part in parts) merged.Merge(part);

        foreach (var q in Quantiles) Assert.Equal(whole.Quantile(q), merged.Quantile(q));
        Assert.Equal(whole.Count, merged.Count);
        Assert.Equal(whole.Sum, merged.Sum, 6);
    }

    [Fact]
    public void A_stored_sketch_reads_back_identical()
    {
        var sketch = new QuantileSketch();
        foreach (var v in Records.LogNormalSeconds(5_000, seed: 11)) sketch.Add(v);
        sketch.Add(0);

        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) sketch.WriteTo(writer);
        stream.Position = 0;
        var copy = QuantileSketch.ReadFrom(new BinaryReader(stream));

        foreach (var q in Quantiles) Assert.Equal(sketch.Quantile(q), copy.Quantile(q));
        Assert.Equal(sketch.Count, copy.Count);
        Assert.Equal(sketch.Min, copy.Min);
    }

    [Fact]
    public void Empty_sketch_has_no_figures_and_zeros_are_counted()
    {
        var sketch = new QuantileSketch();
        Assert.Null(sketch.Quantile(0.5));
        Assert.Null(sketch.Mean);

        sketch.Add(0);
        sketch.Add(0);
        sketch.Add(2);
        Assert.Equal(0, sketch.Quantile(0.5));
        Assert.Equal(2, sketch.Quantile(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sketch.Add(double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>(() => sketch.Add(-1));
        Assert.Equal(3, sketch.Count);
    }

    [Fact]
    public void A_compacted_sketch_answers_merges_stores_and_grows_as_before()
    {
        var values = Records.LogNormalSeconds(300, seed: 17);
        var dense = new QuantileSketch();
        foreach (var v in values) dense.Add(v);
        dense.Add(0);
        var compact = dense.Clone();
        compact.Compact();
        Assert.True(compact.IsCompact);
        Assert.True(compact.AllocatedBins < dense.AllocatedBins);
        foreach (var q in Quantiles) Assert.Equal(dense.Quantile(q), compact.Quantile(q));

        var mergedFromDense = new QuantileSketch();
        mergedFromDense.Merge(dense);
        var mergedFromCompact = new QuantileSketch();
        mergedFromCompact.Merge(compact);
        foreach (var q in Quantiles) Assert.Equal(mergedFromDense.Quantile(q), mergedFromCompact.Quantile(q));

        Assert.Equal(Bytes(dense), Bytes(compact));

        // A late value expands it again; the clone it was made from is untouched.
        compact.Add(1000);
        dense.Add(1000);
        Assert.False(compact.IsCompact);
        foreach (var q in Quantiles) Assert.Equal(dense.Quantile(q), compact.Quantile(q));
    }

    private static byte[] Bytes(QuantileSketch sketch)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) sketch.WriteTo(writer);
        return stream.ToArray();
    }
}
