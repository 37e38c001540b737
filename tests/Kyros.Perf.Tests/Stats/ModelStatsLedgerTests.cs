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

    [Fact]
    public void A_day_folded_into_hours_answers_every_window_as_a_day_of_minutes_would()
    {
        var (whole, tiered, history) = DayOfTraffic();
        foreach (var window in new[] { "1m", "5m", "1h", "119m", "2h", "121m", "3h", "6h", "23h59m", "24h" })
        {
            var span = window == "23h59m" ? TimeSpan.FromMinutes(1439) : TimeWindow.Parse(window);
            var expected = whole.Window(Now, span);
            var actual = tiered.Window(Now, span, edge: Edge(tiered, history, span));
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected.Successes, actual.Successes);
            Assert.Equal(expected.QualityCount, actual.QualityCount);
            Assert.Equal(expected.CostTotal, actual.CostTotal, 9);
            foreach (var q in new[] { 0.0, 0.5, 0.95, 0.99, 1.0 })
            {
                Assert.Equal(expected.Latency.Quantile(q), actual.Latency.Quantile(q));
                Assert.Equal(expected.TimeToFirstToken.Quantile(q), actual.TimeToFirstToken.Quantile(q));
            }
        }
        // Only two hours of minutes are held; the rest of the day is in 23 or so hours.
        Assert.InRange(tiered.MinuteCount, 120, 121);
        Assert.InRange(tiered.HourCount, 22, 24);
        var minutes = tiered.Minutes(Now, TimeSpan.FromHours(3), history.Values.Where(r => r.Resolution == HistoryResolution.Minute).Select(r => (r.BucketStart, r.Aggregate)));
        Assert.Equal(whole.Minutes(Now, TimeSpan.FromHours(3)).Select(m => (m.Start, m.Count, m.LatencyP99)), minutes.Select(m => (m.Start, m.Count, m.LatencyP99)));
    }

    [Fact]
    public void A_late_record_for_a_folded_minute_takes_its_row_from_history_and_writes_it_back_whole()
    {
        var (whole, tiered, history) = DayOfTraffic();
        var at = Now.AddHours(-20).AddMinutes(-7).AddSeconds(-3);
        var late = Records.Valid(seconds: 42, at: at) with { Instance = "east" };
        var minute = ModelStatsLedger.MinuteOf(at);
        Assert.Equal([minute], tiered.LateMinutes([late]));
        tiered.SeedLate(minute, history[(HistoryResolution.Minute, ModelStatsLedger.StartOf(minute))].Aggregate);
        Assert.Empty(tiered.LateMinutes([late]));
        tiered.Apply(late, 10_000_000);
        whole.Apply(late, 10_000_000);

        var (rows, flushed) = tiered.TakeUnflushed("gpt-4");
        var row = Assert.Single(rows, r => r.Resolution == HistoryResolution.Minute);
        Assert.Equal(whole.Window(Now, TimeSpan.FromHours(24)).Count, tiered.Window(Now, TimeSpan.FromHours(24), edge: Edge(tiered, history, TimeSpan.FromHours(24))).Count);
        Assert.Equal(history[(HistoryResolution.Minute, row.BucketStart)].Aggregate.Count + 1, row.Aggregate.Count);
        Assert.Equal(42, row.Aggregate.Latency.Max);
        var hourRow = Assert.Single(rows, r => r.Resolution == HistoryResolution.Hour);
        Assert.Equal(history[(HistoryResolution.Hour, hourRow.BucketStart)].Aggregate.Count + 1, hourRow.Aggregate.Count);
        foreach (var r in rows) history[(r.Resolution, r.BucketStart)] = r;
        tiered.Flushed(flushed);
        tiered.Prune(Now);

        // Folded again: every window, its edge in that very hour included, still answers as the whole day does.
        foreach (var span in new[] { TimeSpan.FromHours(24), TimeSpan.FromMinutes(20 * 60 + 10), TimeSpan.FromMinutes(20 * 60 + 5) })
        {
            var expected = whole.Window(Now, span);
            var actual = tiered.Window(Now, span, edge: Edge(tiered, history, span));
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected.Latency.Quantile(0.99), actual.Latency.Quantile(0.99));
            Assert.Equal(expected.Latency.Max, actual.Latency.Max);
        }
    }

    [Fact]
    public void An_instance_is_answered_for_the_minutes_kept_and_the_model_for_the_whole_window()
    {
        var (_, tiered, history) = DayOfTraffic();
        var day = TimeSpan.FromHours(24);
        Assert.Equal(TimeWindow.StartAt(Now, ModelStatsLedger.MinuteSpan), tiered.WindowStart(Now, day, "east"));
        Assert.Equal(TimeWindow.StartAt(Now, day), tiered.WindowStart(Now, day));
        var east = tiered.Window(Now, day, "east");
        var west = tiered.Window(Now, day, "west");
        var twoHours = tiered.Window(Now, TimeSpan.FromHours(2));
        Assert.Equal(twoHours.Count, east.Count + west.Count);
        Assert.True(tiered.Window(Now, day, edge: Edge(tiered, history, day)).Count > 10 * twoHours.Count);
    }

    [Fact]
    public void Live_state_rebuilt_from_history_answers_as_before_it_was_lost()
    {
        var (whole, _, history) = DayOfTraffic();
        var split = ModelStatsLedger.SeedSplit(Now);
        var rebuilt = new ModelStatsLedger();
        rebuilt.SeedHistory(
            history.Values.Where(r => r.Resolution == HistoryResolution.Minute && r.BucketStart >= split).Select(r => (r.BucketStart, r.Aggregate)),
            history.Values.Where(r => r.Resolution == HistoryResolution.Hour && r.BucketStart < split).Select(r => (r.BucketStart, r.Aggregate)),
            split);
        rebuilt.Prune(Now);
        foreach (var span in new[] { TimeSpan.FromMinutes(30), TimeSpan.FromHours(5), TimeSpan.FromHours(24) })
        {
            var expected = whole.Window(Now, span);
            var actual = rebuilt.Window(Now, span, edge: Edge(rebuilt, history, span));
            Assert.Equal(expected.Count, actual.Count);
            Assert.Equal(expected.Latency.Quantile(0.95), actual.Latency.Quantile(0.95));
        }
        Assert.False(rebuilt.HasUnflushed);
    }

    [Fact]
    public void A_snapshot_of_the_tiers_and_one_of_the_earlier_per_minute_form_both_restore()
    {
        var (_, tiered, history) = DayOfTraffic();
        var restored = ModelStatsLedger.FromSnapshot(tiered.ToSnapshot());
        var day = TimeSpan.FromHours(24);
        Assert.Equal(tiered.Window(Now, day, edge: Edge(tiered, history, day)).Latency.Quantile(0.99),
            restored.Window(Now, day, edge: Edge(restored, history, day)).Latency.Quantile(0.99));
        Assert.Equal(tiered.Instances.Order(), restored.Instances.Order());

        // The earlier form: version 2, the position, then per minute each instance's aggregate, then the unflushed minutes.
        var aggregate = new MetricsAggregate();
        aggregate.Add(Records.Valid(seconds: 3, at: Now));
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream))
        {
            writer.Write((byte)2);
            writer.Write(77L);
            writer.Write7BitEncodedInt(1);
            writer.Write(ModelStatsLedger.MinuteOf(Now));
            writer.Write7BitEncodedInt(1);
            writer.Write("east");
            aggregate.WriteTo(writer);
            writer.Write7BitEncodedInt(0);
        }
        var earlier = ModelStatsLedger.FromSnapshot(stream.ToArray());
        Assert.Equal(77, earlier.AppliedPosition);
        Assert.Equal(3, earlier.Window(Now, TimeSpan.FromMinutes(1), "east").Latency.Max);
        Assert.Equal(1, earlier.Window(Now, TimeSpan.FromMinutes(1)).Count);
        Assert.Equal(["east"], earlier.Instances);
    }

    /// <summary>
    /// A day of records across two instances, applied to a ledger that is never pruned (every minute held) and to one
    /// that flushes and prunes as the grain does, with the rows it writes kept as history (the newest row per bucket wins).
    /// </summary>
    private static (ModelStatsLedger Whole, ModelStatsLedger Tiered, Dictionary<(HistoryResolution, DateTimeOffset), HistoryRow> History) DayOfTraffic()
    {
        var whole = new ModelStatsLedger();
        var tiered = new ModelStatsLedger();
        var history = new Dictionary<(HistoryResolution, DateTimeOffset), HistoryRow>();
        var latencies = Records.LogNormalSeconds(24 * 60 * 6, seed: 3);
        var start = Now - TimeSpan.FromHours(24);
        var position = 0;
        for (var minute = 0; minute <= 24 * 60; minute++)
        {
            for (var i = 0; i < 6; i++)
            {
                var record = Records.Valid(seconds: latencies[(minute * 6 + i) % latencies.Length], at: start.AddMinutes(minute).AddSeconds(i * 10)) with
                {
                    Instance = i % 2 == 0 ? "east" : "west",
                    Success = i != 5,
                    ErrorKind = i == 5 ? "timeout" : null,
                };
                if (record.Timestamp > Now) continue;
                position++;
                whole.Apply(record, position);
                tiered.Apply(record, position);
            }
            // Every ten minutes of the day, as the grain's timer: prune, then hand the changed minutes to history.
            if (minute % 10 == 9 || minute == 24 * 60)
            {
                var at = start.AddMinutes(minute + 1);
                tiered.Prune(at < Now ? at : Now);
                var (rows, minutes) = tiered.TakeUnflushed("gpt-4");
                foreach (var row in rows) history[(row.Resolution, row.BucketStart)] = row;
                tiered.Flushed(minutes);
            }
        }
        tiered.Prune(Now);
        return (whole, tiered, history);
    }

    private static MetricsAggregate? Edge(ModelStatsLedger ledger, Dictionary<(HistoryResolution, DateTimeOffset), HistoryRow> history, TimeSpan window) =>
        ledger.EdgeRange(Now, window) is { } range
            ? ledger.MergeEdge(history.Values.Where(r => r.Resolution == HistoryResolution.Minute && r.BucketStart >= range.From && r.BucketStart < range.To)
                .Select(r => (r.BucketStart, r.Aggregate)))
            : null;
}
