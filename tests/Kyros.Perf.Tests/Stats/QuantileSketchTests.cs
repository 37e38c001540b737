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
    public void A_sparse_sketch_is_stored_as_gaps_and_merges_from_storage_exactly()
    {
        // A minute of 40 records spreads over a wide range: most buckets between them are empty.
        var sparse = new QuantileSketch();
        foreach (var v in Records.LogNormalSeconds(40, seed: 17)) sparse.Add(v);
        var dense = new QuantileSketch();
        foreach (var v in Records.LogNormalSeconds(50_000, seed: 18)) dense.Add(v);

        var sparseBytes = Bytes(sparse);
        // Under two bytes per record once the fixed part (count, sum, min, max) is paid: a dense run would take one per bucket between.
        Assert.True(sparseBytes.Length < 40 + 80, $"{sparseBytes.Length} bytes");
        var spanned = (int)Math.Ceiling(Math.Log(sparse.Max!.Value / sparse.Min!.Value) / Math.Log(1.01 / 0.99));
        Assert.True(sparseBytes.Length < spanned, $"{sparseBytes.Length} bytes for {spanned} buckets spanned");

        // Merged from storage, whichever form each was stored in, it answers as merging the sketches themselves.
        var expected = dense.Clone();
        expected.Merge(sparse);
        var merged = new QuantileSketch();
        foreach (var bytes in new[] { Bytes(dense), sparseBytes })
            merged.MergeFrom(new BinaryReader(new MemoryStream(bytes)));
        foreach (var q in Quantiles) Assert.Equal(expected.Quantile(q), merged.Quantile(q));
        Assert.Equal(expected.Count, merged.Count);
        Assert.Equal(expected.Sum, merged.Sum, 9);
        Assert.Equal(Bytes(expected), Bytes(merged));
    }

    private static byte[] Bytes(QuantileSketch sketch)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream)) sketch.WriteTo(writer);
        return stream.ToArray();
    }
}
