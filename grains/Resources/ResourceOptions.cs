using Kyros.Perf.Common;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Resources;

/// <summary>Host sampling, alerting, pattern detection and scaling advice (configuration section <c>Kyros:Resources</c>).</summary>
public sealed class ResourceOptions
{
    public const string Section = "Kyros:Resources";

    /// <summary>Whether each silo samples its own host (under its <c>Kyros:HostName</c>).</summary>
    public bool SampleLocalHost { get; set; } = true;

    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long samples are kept; summaries cover at most this.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Hosts the cluster keeps track of; a push from one more is refused (400 naming <c>node</c>).</summary>
    public int MaxHosts { get; set; } = 10_000;

    /// <summary>Series one host may hold in its window (each disk, NIC and GPU adds some); a push adding more is refused.</summary>
    public int MaxSeriesPerHost { get; set; } = 512;

    /// <summary>
    /// The least time between two pushed samples of a host: with <see cref="Window"/> it bounds the points a series
    /// holds (an hour at 500 ms: 7,200), whatever a writer sends. Half a second, so that a sampler every second is
    /// never refused for its timer's jitter.
    /// </summary>
    public TimeSpan MinSampleInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The group this silo's host belongs to, for scaling advice.</summary>
    public string Group { get; set; } = "default";

    /// <summary>Samples in a row a level must hold before an alert is raised, escalated, de-escalated or resolved.</summary>
    public int ConsecutiveSamples { get; set; } = 2;

    /// <summary>How far below a threshold a value must fall to leave its level: points for percentages and °C.</summary>
    public double HysteresisPoints { get; set; } = 5;

    /// <summary>The same margin for metrics without a fixed scale (connections, queue, bytes/s, watts), as a share of the threshold.</summary>
    public double HysteresisFraction { get; set; } = 0.05;

    /// <summary>How often (in sample time) trends and cycles are looked for; spikes are checked on every sample.</summary>
    public TimeSpan PatternInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>A value is a spike when its robust z-score (median and MAD over the window) reaches this.</summary>
    public double SpikeZScore { get; set; } = 3.5;

    /// <summary>A trend is reported when its t statistic reaches this and it explains at least <see cref="TrendMinRSquared"/> of the variance.</summary>
    public double TrendTStatistic { get; set; } = 4;
    public double TrendMinRSquared { get; set; } = 0.3;

    /// <summary>A cycle is reported when the autocorrelation at its period reaches this.</summary>
    public double CycleMinAutocorrelation { get; set; } = 0.5;

    /// <summary>Samples a series needs before trends and cycles are looked for.</summary>
    public int PatternMinSamples { get; set; } = 30;

    public double ScaleOutAbove { get; set; } = 80;
    public TimeSpan ScaleOutWindow { get; set; } = TimeSpan.FromMinutes(10);
    public double ScaleInBelow { get; set; } = 20;
    public TimeSpan ScaleInWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Alert events the alert log keeps in grain state; older ones are in SQLite.</summary>
    public int AlertLogCapacity { get; set; } = 10_000;

    /// <summary>The fallback GPU reader when NVML cannot be loaded; empty turns it off.</summary>
    public string NvidiaSmiPath { get; set; } = "nvidia-smi";

    /// <summary>A summary window: whole minutes, no longer than the samples are kept for.</summary>
    public void RequireKeptWindow(TimeSpan window, string field)
    {
        TimeWindow.Validate(window, field);
        if (window > Window)
            throw new ArgumentException($"{field} must be at most {TimeWindow.Format(Window)}, the window samples are kept for ({Section}:Window).", field);
    }
}

public sealed class ResourceOptionsValidator : IValidateOptions<ResourceOptions>
{
    public ValidateOptionsResult Validate(string? name, ResourceOptions o)
    {
        const string s = ResourceOptions.Section;
        var errors = new List<string>();
        if (o.SampleInterval < TimeSpan.FromSeconds(1) || o.SampleInterval > TimeSpan.FromMinutes(10)) errors.Add($"{s}:SampleInterval must be within 00:00:01..00:10:00.");
        if (!TimeWindow.IsValid(o.Window))
            errors.Add($"{s}:Window must be whole minutes within 00:01:00..1.00:00:00.");
        if (o.Window < o.ScaleInWindow || o.Window < o.ScaleOutWindow) errors.Add($"{s}:Window must be at least ScaleInWindow and ScaleOutWindow.");
        if (!ResourceValidator.IsNodeName(o.Group)) errors.Add($"{s}:Group must be 1-128 characters of letters, digits, '.', '_' or '-'.");
        if (o.ConsecutiveSamples is < 1 or > 100) errors.Add($"{s}:ConsecutiveSamples must be within 1..100.");
        if (o.HysteresisPoints is < 0 or > 50) errors.Add($"{s}:HysteresisPoints must be within 0..50.");
        if (o.HysteresisFraction is < 0 or > 0.5) errors.Add($"{s}:HysteresisFraction must be within 0..0.5.");
        if (o.PatternInterval < TimeSpan.FromSeconds(1)) errors.Add($"{s}:PatternInterval must be at least 00:00:01.");
        if (o.SpikeZScore is < 2 or > 20) errors.Add($"{s}:SpikeZScore must be within 2..20.");
        if (o.TrendTStatistic is < 2 or > 50) errors.Add($"{s}:TrendTStatistic must be within 2..50.");
        if (o.TrendMinRSquared is < 0 or > 1) errors.Add($"{s}:TrendMinRSquared must be within 0..1.");
        if (o.CycleMinAutocorrelation is < 0.1 or > 1) errors.Add($"{s}:CycleMinAutocorrelation must be within 0.1..1.");
        if (o.PatternMinSamples is < 10 or > 100_000) errors.Add($"{s}:PatternMinSamples must be within 10..100000.");
        if (!(o.ScaleInBelow >= 0 && o.ScaleInBelow < o.ScaleOutAbove && o.ScaleOutAbove <= 100)) errors.Add($"{s}:ScaleInBelow and ScaleOutAbove must satisfy 0 <= ScaleInBelow < ScaleOutAbove <= 100.");
        if (o.ScaleOutWindow < TimeSpan.FromMinutes(1) || o.ScaleInWindow < TimeSpan.FromMinutes(1) || o.ScaleOutWindow.Ticks % TimeSpan.TicksPerMinute != 0 || o.ScaleInWindow.Ticks % TimeSpan.TicksPerMinute != 0)
            errors.Add($"{s}:ScaleOutWindow and ScaleInWindow must be whole minutes of at least 00:01:00.");
        if (o.MaxHosts is < 1 or > 1_000_000) errors.Add($"{s}:MaxHosts must be within 1..1000000.");
        if (o.MaxSeriesPerHost is < 16 or > 100_000) errors.Add($"{s}:MaxSeriesPerHost must be within 16..100000.");
        if (o.MinSampleInterval < TimeSpan.FromMilliseconds(100) || o.MinSampleInterval > o.SampleInterval)
            errors.Add($"{s}:MinSampleInterval must be within 00:00:00.100 and SampleInterval.");
        if (o.AlertLogCapacity is < 100 or > 1_000_000) errors.Add($"{s}:AlertLogCapacity must be within 100..1000000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
