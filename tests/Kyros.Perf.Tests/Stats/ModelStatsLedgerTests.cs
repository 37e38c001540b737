using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Stats;

public sealed class ModelStatsLedgerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 30, 20, TimeSpan.Zero);

    [Fact]
    public void A_window_covers_exactly_its_minutes()
    {
        var ledger = new ModelStatsLedger();
        var position = 0;
        // 1h at 12:30:20 covers 11:31:00 onwards.
        ledger.Apply(Records.Valid(at: new DateTimeOffset(2026, 11, 28, 11, 30, 59, TimeSpan.Zero)), ++position);
        ledger.Apply(Records.Valid(at: new DateTimeOffset(2026, 11, 28, 11, 31, 0, TimeSpan.Zero)), ++position);
        ledger.Apply(Records.Valid(at: Now), ++position);
        ledger.Apply(Records.Valid(at: Now.AddHours(-23).AddMinutes(-59)), ++position);

        Assert.Equal(2, ledger.Window(Now, TimeSpan.FromHours(1)).Count);
        Assert.Equal(1, ledger.Window(Now, TimeSpan.FromMinutes(1)).Count);
        Assert.Equal(3, ledger.Window(Now, TimeSpan.FromMinutes(61)).Count);
        Assert.Equal(4, ledger.Window(Now, TimeSpan.FromHours(24)).Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 11, 31, 0, TimeSpan.Zero), TimeWindow.StartAt(Now, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void Figures_add_up_and_percentiles_rest_on_the_sketch()
    {
        var ledger = new ModelStatsLedger();
        var latencies = Records.LogNormalSeconds(2_000, seed: 5);
        for (var i = 0; i < latencies.Length; i++)
        {
            var record = Records.Valid(seconds: latencies[i], at: Now.AddSeconds(-i)) with
            {
                Success = i % 10 != 0,
                ErrorKind = i % 10 != 0 ? null : i % 20 == 0 ? "timeout" : null,
                QualityScore = i % 2 == 0 ? 0.8 : null,
            };
            ledger.Apply(record, i + 1);
        }
        var summary = ModelSummary.Create("gpt-4", "1h", TimeWindow.StartAt(Now, TimeSpan.FromHours(1)), Now, ledger.Window(Now, TimeSpan.FromHours(1)));

        Assert.Equal(2_000, summary.Count);
        Assert.Equal(1_800, summary.SuccessCount);
        Assert.Equal(0.1, summary.ErrorRate, 9);
        Assert.Equal(100, summary.ErrorsByKind["timeout"]);
        Assert.Equal(100, summary.ErrorsByKind["unknown"]);
        Assert.Equal(1_000, summary.Quality.Count);
        Assert.Equal(0.8, summary.Quality.Mean!.Value, 9);
        Assert.Equal(2_000 * 0.03, summary.Cost.Total, 6);
        Assert.Equal(400_000, summary.OutputTokens);
        var exactP95 = Records.ExactQuantile(latencies, 0.95);
        Assert.InRange(summary.Latency.P95!.Value, exactP95 * 0.99, exactP95 * 1.01);
        Assert.Equal(latencies.Max(), summary.Latency.Max);
        Assert.Equal(latencies.Average(), summary.Latency.Mean!.Value, 9);
    }

    [Fact]
    public void A_snapshot_restores_figures_position_and_pending_history()
    {
        var ledger = new ModelStatsLedger();
        for (var i = 0; i < 300; i++) ledger.Apply(Records.Valid(seconds: 0.1 + i / 100.0, at: Now.AddSeconds(-i * 7)), 1000 + i);
        var restored = ModelStatsLedger.FromSnapshot(ledger.ToSnapshot());

        Assert.Equal(1299, restored.AppliedPosition);
        Assert.Equal(ledger.MinuteCount, restored.MinuteCount);
        var window = TimeSpan.FromHours(1);
        Assert.Equal(ledger.Window(Now, window).Latency.Quantile(0.99), restored.Window(Now, window).Latency.Quantile(0.99));
        Assert.Equal(ledger.TakeUnflushed("m").Rows.Count, restored.TakeUnflushed("m").Rows.Count);
    }

    [Fact]
    public void History_rows_hold_each_changed_minute_and_its_whole_hour()
    {
        var ledger = new ModelStatsLedger();
        var twelve = new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);
        ledger.Apply(Records.Valid(at: twelve.AddMinutes(1)), 1);
        ledger.Apply(Records.Valid(at: twelve.AddMinutes(2)), 2);
        ledger.TakeUnflushed("gpt-4");

        ledger.Apply(Records.Valid(at: twelve.AddMinutes(2).AddSeconds(30)), 3);
        var (rows, minutes) = ledger.TakeUnflushed("gpt-4");

        var minute = Assert.Single(rows, r => r.Resolution == HistoryResolution.Minute);
        Assert.Equal(twelve.AddMinutes(2), minute.BucketStart);
        Assert.Equal(2, minute.Aggregate.Count);
        var hour = Assert.Single(rows, r => r.Resolution == HistoryResolution.Hour);
        Assert.Equal(twelve, hour.BucketStart);
        Assert.Equal(3, hour.Aggregate.Count);
        Assert.False(ledger.HasUnflushed);

        ledger.Unflush(minutes);
        Assert.True(ledger.HasUnflushed);
    }

    [Fact]
    public void Minutes_older_than_the_live_retention_are_dropped()
    {
        var ledger = new ModelStatsLedger();
        ledger.Apply(Records.Valid(at: Now - ModelStatsLedger.LiveRetention - TimeSpan.FromMinutes(1)), 1);
        ledger.Apply(Records.Valid(at: Now), 2);
        ledger.Prune(Now);
        Assert.Equal(1, ledger.MinuteCount);
    }

    [Fact]
    public void Instances_are_kept_apart_and_merge_into_the_model_and_its_history()
    {
        var ledger = new ModelStatsLedger();
        for (var i = 0; i < 100; i++)
        {
            ledger.Apply(Records.Valid(seconds: 1, at: Now) with { Instance = "a" }, 3 * i + 1);
            ledger.Apply(Records.Valid(seconds: 2, at: Now) with { Instance = "b" }, 3 * i + 2);
            ledger.Apply(Records.Valid(seconds: 3, at: Now) with { Instance = null }, 3 * i + 3);
        }
        var hour = TimeSpan.FromHours(1);
        Assert.Equal(["a", "b"], ledger.Instances.Order());
        Assert.Equal(2, ledger.Window(Now, hour, "b").Latency.Max);
        Assert.Equal(100, ledger.Window(Now, hour, "a").Count);
        Assert.Equal(300, ledger.Window(Now, hour).Count);
        Assert.Equal(3, ledger.Window(Now, hour).Latency.Max);

        var restored = ModelStatsLedger.FromSnapshot(ledger.ToSnapshot());
        Assert.Equal(100, restored.Window(Now, hour, "b").Count);
        var minute = Assert.Single(restored.TakeUnflushed("m").Rows, r => r.Resolution == HistoryResolution.Minute);
        Assert.Equal(300, minute.Aggregate.Count);
    }
}
