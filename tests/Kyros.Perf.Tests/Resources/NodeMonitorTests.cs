using Kyros.Perf.Resources;

namespace Kyros.Perf.Tests.Resources;

public sealed class NodeMonitorTests
{
    private static readonly ResourceOptions Options = new();

    [Fact]
    public void The_summary_gives_min_mean_max_p95_and_latest_per_series_over_the_window()
    {
        var monitor = new NodeMonitor("h1", Options);
        for (var i = 0; i < 100; i++)
            monitor.Ingest(new ResourceSample
            {
                Node = "h1",
                Timestamp = Series.Start + i * Series.Step,
                CpuPercent = i % 50,
                Disks = [new DiskSample("/", 25, 100)],
                Gpus = [new GpuSample(0, "NVIDIA H200", 10, 10L << 30, 141L << 30, 40, 120)],
            }, DefaultThresholds.All.GetValueOrDefault);
        var now = Series.Start + 99 * Series.Step;

        var all = monitor.Summarize(TimeSpan.FromMinutes(60), "default", "silo", false, now);
        var cpu = Assert.Single(all.Metrics, m => m.Series == "cpu");
        Assert.Equal((100, 0, 24.5, 49, 47, 49), (cpu.Samples, cpu.Min, cpu.Mean, cpu.Max, cpu.P95, cpu.Latest));
        Assert.Equal(25, Assert.Single(all.Metrics, m => m.Series == "disk:/").Latest);
        Assert.Equal(40, Assert.Single(all.Metrics, m => m.Series == "gpu_temperature:0").Max);
        Assert.Equal(100, all.SampleCount);

        // The last minute holds the 13 samples from 12:07:15.
        var minute = monitor.Summarize(TimeSpan.FromMinutes(1), "default", "silo", false, now);
        Assert.Equal(13, minute.SampleCount);
        Assert.Equal(Enumerable.Range(87, 13).Select(i => (double)(i % 50)).Min(), Assert.Single(minute.Metrics, m => m.Series == "cpu").Min);
    }

    [Fact]
    public void A_new_gpu_and_a_spike_are_each_announced_once_as_info_notices()
    {
        var monitor = new NodeMonitor("h1", Options);
        var flat = Series.FlatNoise(110, seed: 9, level: 20);
        flat[100] = flat[101] = 60; // a spike that lasts two samples
        var notices = new List<AlertEvent>();
        for (var i = 0; i < flat.Length; i++)
            notices.AddRange(monitor.Ingest(new ResourceSample
            {
                Node = "h1",
                Timestamp = Series.Start + i * Series.Step,
                CpuPercent = flat[i],
                Gpus = [new GpuSample(0, "NVIDIA H200", 5, 1L << 30, 141L << 30, null, null)],
            }, DefaultThresholds.All.GetValueOrDefault));

        Assert.All(notices, n => Assert.Equal((AlertEventKind.Notice, AlertLevel.Info), (n.Kind, n.Level)));
        Assert.Equal(2, notices.Count);
        Assert.Equal("gpu:0", notices[0].Series);
        Assert.Equal(("cpu", Series.Start + 100 * Series.Step), (notices[1].Series, notices[1].Timestamp));
        Assert.Contains("spiked", notices[1].Message);
        Assert.Single(monitor.Summarize(TimeSpan.FromMinutes(60), "default", "silo", false, Series.Start + 109 * Series.Step).Patterns,
            p => p.Kind == PatternKind.Spike);
    }

    [Fact]
    public void A_rising_series_is_announced_once_although_every_scan_still_finds_it()
    {
        var monitor = new NodeMonitor("h1", Options);
        var ramp = Series.Ramp(240, seed: 4, from: 20, perMinute: 2);
        var notices = ramp.SelectMany((v, i) => monitor.Ingest(Series.Cpu("h1", i, v), _ => null)).Where(e => e.Kind == AlertEventKind.Notice).ToArray();

        var rising = Assert.Single(notices);
        Assert.Contains("rising", rising.Message);
        var pattern = Assert.Single(monitor.Summarize(TimeSpan.FromMinutes(60), "default", "silo", false, Series.Start + 239 * Series.Step).Patterns);
        Assert.Equal(2, pattern.SlopePerMinute!.Value, 0.1);
        Assert.True(pattern.DetectedAt > rising.Timestamp, "later scans refresh the detection");
    }

    [Fact]
    public void Usage_reports_means_and_how_much_of_each_window_has_samples()
    {
        var monitor = new NodeMonitor("h1", Options);
        for (var i = 0; i < 240; i++) // 20 minutes at 5 s
            monitor.Ingest(Series.Cpu("h1", i, 90), _ => null);
        var usage = monitor.Usage("gpu", TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(60), Series.Start + 239 * Series.Step);

        Assert.Equal((90.0, 1.0), (usage.RecentCpu!.Value, usage.RecentCoverage));
        Assert.Equal(20.0 / 60, usage.LongCoverage, 2);
        Assert.Null(usage.RecentGpu);
    }
}
