using System.Diagnostics;
using System.Globalization;
using Kyros.Perf.Common;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// What one model's live state costs in memory and in its checkpoint, and what a record and a 24 h summary cost
/// inside the grain: a full day of minutes with traffic in every one.
/// </summary>
public static class LiveStateFootprint
{
    public static void Print(int recordsPerMinute = 100)
    {
        var random = new Random(1);
        var now = DateTimeOffset.UtcNow;
        var records = new List<ModelPerformanceRecord>(1440 * recordsPerMinute);
        for (var minute = 0; minute < 1440; minute++)
            for (var i = 0; i < recordsPerMinute; i++)
            {
                var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                var latency = Math.Exp(0.8 * gaussian);
                records.Add(new ModelPerformanceRecord("gpt-4", i % 2 == 0 ? "east" : "west", now.AddMinutes(-minute).AddSeconds(-i * 0.5),
                    latency, latency / 4, 100, 200, i % 50 != 0, i % 50 == 0 ? "timeout" : null, 0.01, i % 3 == 0 ? 0.8 : null, $"r{minute}-{i}"));
            }
        records.Reverse();

        // A first pass warms the JIT and the statics, so the second measures only the ledger.
        Build(records, now, out _);
        // Held in an array slot, so dropping it is exact whatever the JIT thinks of local lifetimes.
        var holder = new ModelStatsLedger?[] { Build(records, now, out var applyNs) };
        var with = GC.GetTotalMemory(forceFullCollection: true);
        holder[0] = null;
        var bytes = with - GC.GetTotalMemory(forceFullCollection: true);
        var ledger = Build(records, now, out _);

        var watch = Stopwatch.StartNew();
        const int queries = 20;
        for (var i = 0; i < queries; i++) ledger.Window(now, TimeWindow.Max);
        var dayQueryMs = watch.Elapsed.TotalMilliseconds / queries;
        var hourQuery = Stopwatch.StartNew();
        for (var i = 0; i < queries; i++) ledger.Window(now, TimeSpan.FromHours(1));
        var hourQueryMs = hourQuery.Elapsed.TotalMilliseconds / queries;
        var snapshot = ledger.ToSnapshot().Length;

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Live state of one model: 1,440 minutes x {recordsPerMinute} records (2 instances), in this process"));
        Console.WriteLine();
        Console.WriteLine("| figure | value |");
        Console.WriteLine("|---|---:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| memory held | {bytes / 1024.0:N0} KiB |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| checkpoint size | {snapshot / 1024.0:N0} KiB |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| apply one record (ledger) | {applyNs:N0} ns |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 1 h summary aggregate | {hourQueryMs:N2} ms |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 24 h summary aggregate | {dayQueryMs:N2} ms |"));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static ModelStatsLedger Build(List<ModelPerformanceRecord> records, DateTimeOffset now, out double applyNs)
    {
        var ledger = new ModelStatsLedger();
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < records.Count; i++) ledger.Apply(records[i], i + 1);
        applyNs = watch.Elapsed.TotalNanoseconds / records.Count;
        // What the grain's checkpoint timer does every 10 s: closed minutes are compacted.
        ledger.Prune(now);
        return ledger;
    }
}
