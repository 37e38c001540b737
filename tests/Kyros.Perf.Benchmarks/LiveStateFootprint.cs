using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Common;
using Kyros.Perf.History;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// What one model's live state costs in memory and in its checkpoint, and what a record and a 24 h summary cost
/// inside the grain: a full day of minutes with traffic in every one.
/// </summary>
public static class LiveStateFootprint
{
    public static void Print(int recordsPerMinute = 100, int instances = 2)
    {
        var random = new Random(1);
        var now = DateTimeOffset.UtcNow;
        var records = new List<ModelPerformanceRecord>(1440 * recordsPerMinute);
        for (var minute = 0; minute < 1440; minute++)
            for (var i = 0; i < recordsPerMinute; i++)
            {
                var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                var latency = Math.Exp(0.8 * gaussian);
                records.Add(new ModelPerformanceRecord("gpt-4", instances == 1 ? "east" : i % 2 == 0 ? "east" : "west", now.AddMinutes(-minute).AddSeconds(-i * 0.5),
                    latency, latency / 4, 100, 200, i % 50 != 0, i % 50 == 0 ? "timeout" : null, 0.01, i % 3 == 0 ? 0.8 : null, $"r{minute}-{i}"));
            }
        records.Reverse();

        // A first pass warms the JIT and the statics, so the second measures only the ledger.
        Build(records, now, out _, out _);
        // Several held in array slots and measured together, so the figure is steady, and dropping them is exact whatever the
        // JIT thinks of local lifetimes.
        const int copies = 8;
        var holder = new ModelStatsLedger?[copies];
        var applyNs = 0.0;
        for (var i = 0; i < copies; i++) holder[i] = Build(records, now, out applyNs, out _);
        var with = GC.GetTotalMemory(forceFullCollection: true);
        Array.Clear(holder);
        var bytes = (with - GC.GetTotalMemory(forceFullCollection: true)) / copies;
        var ledger = Build(records, now, out _, out var history);

        // The grain asks history for a window's part hour once a minute and keeps it; every other ask merges what is live.
        const int queries = 200;
        var day = TimeWindow.Max;
        var edgeWatch = Stopwatch.StartNew();
        MetricsAggregate? edge = null;
        for (var i = 0; i < queries; i++) edge = Edge(ledger, history, now, day);
        var edgeMs = edgeWatch.Elapsed.TotalMilliseconds / queries;
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < queries; i++) ledger.Window(now, day, edge: edge);
        var dayQueryMs = watch.Elapsed.TotalMilliseconds / queries;
        var hourQuery = Stopwatch.StartNew();
        for (var i = 0; i < queries; i++) ledger.Window(now, TimeSpan.FromHours(1));
        var hourQueryMs = hourQuery.Elapsed.TotalMilliseconds / queries;
        var snapshot = ledger.ToSnapshot().Length;

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Live state of one model: a day of minutes x {recordsPerMinute} records ({instances} instance{(instances == 1 ? "" : "s")}), pruned and flushed as the grain does, in this process"));
        Console.WriteLine();
        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| memory held | {bytes / 1024.0:N0} KiB |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| checkpoint size | {snapshot / 1024.0:N0} KiB |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| apply one record (ledger) | {applyNs:N0} ns |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 1 h summary aggregate | {hourQueryMs:N2} ms |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 24 h summary aggregate | {dayQueryMs:N3} ms |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 24 h edge from minute rows (once a minute) | {edgeMs:N3} ms |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| minutes / hours held | {ledger.MinuteCount} / {ledger.HourCount} |"));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ModelStatsLedger Build(List<ModelPerformanceRecord> records, DateTimeOffset now, out double applyNs,
        out Dictionary<DateTimeOffset, MetricsAggregate> minuteRows)
    {
        var ledger = new ModelStatsLedger();
        minuteRows = [];
        var applying = TimeSpan.Zero;
        var next = 0;
        // Minute by minute through the day, with the grain's timer every 10 s of it: prune, then hand changed minutes to history.
        for (var at = now - TimeWindow.Max; at <= now; at += TimeSpan.FromSeconds(10))
        {
            var started = Stopwatch.GetTimestamp();
            for (; next < records.Count && records[next].Timestamp < at; next++) ledger.Apply(records[next], next + 1);
            applying += Stopwatch.GetElapsedTime(started);
            ledger.Prune(at);
            var (rows, minutes) = ledger.TakeUnflushed("gpt-4");
            foreach (var row in rows)
                if (row.Resolution == HistoryResolution.Minute) minuteRows[row.BucketStart] = row.Aggregate;
            ledger.Flushed(minutes);
        }
        for (; next < records.Count; next++) ledger.Apply(records[next], next + 1);
        ledger.Prune(now);
        applyNs = applying.TotalNanoseconds / records.Count;
        return ledger;
    }

    private static MetricsAggregate? Edge(ModelStatsLedger ledger, Dictionary<DateTimeOffset, MetricsAggregate> rows, DateTimeOffset now, TimeSpan window)
    {
        if (ledger.EdgeRange(now, window) is not { } range) return null;
        var edge = new List<(DateTimeOffset, MetricsAggregate)>();
        for (var start = range.From; start < range.To; start += TimeSpan.FromMinutes(1))
            if (rows.TryGetValue(start, out var row)) edge.Add((start, row));
        return ledger.MergeEdge(edge);
    }
}
