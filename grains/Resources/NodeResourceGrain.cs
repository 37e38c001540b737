using Kyros.Perf.Alerts;
using Kyros.Perf.Common;
using Kyros.Perf.HostSampling;
using Kyros.Perf.Resources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Streams;
using Kyros.Perf.Durability;

namespace Kyros.Perf.Resources;

/// <summary>
/// One host's resources. Thin: <see cref="NodeMonitor"/> does the arithmetic; this grain samples (on its own host's
/// silo), keeps thresholds and active alerts in grain state, and sends every event to the alert stream and the log.
/// </summary>
[HostAffinePlacement]
public sealed class NodeResourceGrain(
    [PersistentState("node-resources", KyrosStorage.Name)] IPersistentState<NodeResourceState> state,
    IResourceSampler sampler,
    TimeProvider time,
    IOptions<ResourceOptions> options,
    IOptions<SiloOptions> silo,
    ILogger<NodeResourceGrain> logger) : Grain, INodeResourceGrain, IStateWriteBack
{
    public Task WriteBackAsync(string epoch) => state.WriteBackAsync();

    private NodeMonitor _monitor = null!;
    private IReadOnlyDictionary<string, AlertThresholds> _cluster = new Dictionary<string, AlertThresholds>();
    private IAsyncStream<AlertEvent> _stream = null!;
    private string _node = "";
    private bool _selfSampled;
    private bool _registered;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _node = this.GetPrimaryKeyString();
        _monitor = new NodeMonitor(_node, options.Value);
        _monitor.Restore(state.State.ActiveAlerts, state.State.KnownGpus);
        _stream = this.Stream();
        _cluster = await GrainFactory.GetGrain<IResourceDirectoryGrain>(0).GetClusterThresholdsAsync();
    }

    public async Task PushAsync(IReadOnlyList<ResourceSample> samples)
    {
        ResourceValidator.ValidateBatch(_node, samples, time.GetUtcNow(), options.Value.Window, after: _monitor.LastSampleAt);
        _monitor.RequireWithinCaps(samples);
        foreach (var sample in samples) await IngestAsync(sample);
    }

    public async Task<bool> StartSamplingAsync()
    {
        // Only the silo named after this host samples it; elsewhere the grain would measure the wrong machine.
        if (!string.Equals(silo.Value.SiloName, _node, StringComparison.OrdinalIgnoreCase))
        {
            // Activated here while the host's silo was away: step aside, so the next call places it on that silo.
            this.DeactivateOnIdle();
            return false;
        }
        if (_selfSampled) return true;
        await sampler.SampleAsync(_node, options.Value.Group); // the baseline rates are measured from
        _selfSampled = true;
        var period = options.Value.SampleInterval;
        // The first reading a second after the baseline, so a new silo reports its host at once; then every period.
        var first = period < TimeSpan.FromSeconds(1) ? period : TimeSpan.FromSeconds(1);
        this.RegisterGrainTimer(SampleAsync, new GrainTimerCreationOptions(first, period) { KeepAlive = true });
        return true;
    }

    public Task<NodeSummary> GetSummaryAsync(TimeSpan window)
    {
        options.Value.RequireKeptWindow(window, "window");
        return Task.FromResult(_monitor.Summarize(window, Group, silo.Value.SiloName, _selfSampled, time.GetUtcNow()));
    }

    public Task<NodeSeries> GetSeriesAsync(TimeSpan window, int maxPoints)
    {
        options.Value.RequireKeptWindow(window, "window");
        ResourceValidator.RequireSeriesPoints(maxPoints, nameof(maxPoints));
        return Task.FromResult(_monitor.Series(window, maxPoints, time.GetUtcNow()));
    }

    public Task<NodeUsage> GetUsageAsync(TimeSpan recent, TimeSpan sustained)
    {
        options.Value.RequireKeptWindow(recent, "recent");
        options.Value.RequireKeptWindow(sustained, "sustained");
        return Task.FromResult(_monitor.Usage(Group, recent, sustained, time.GetUtcNow()));
    }

    public Task<IReadOnlyList<MetricThresholds>> GetThresholdsAsync() =>
        Task.FromResult(DefaultThresholds.Resolve(_cluster, state.State.Thresholds));

    public async Task<MetricThresholds> SetThresholdAsync(string metric, AlertThresholds thresholds)
    {
        ResourceValidator.ValidateThresholds(metric, thresholds);
        state.State.Thresholds[metric] = thresholds;
        await state.WriteStateAsync();
        return new MetricThresholds(metric, thresholds, "node");
    }

    public Task ApplyClusterThresholdsAsync(IReadOnlyDictionary<string, AlertThresholds> thresholds)
    {
        _cluster = thresholds;
        return Task.CompletedTask;
    }

    private string Group => state.State.Group ?? options.Value.Group;

    private async Task SampleAsync(CancellationToken cancellationToken)
    {
        try
        {
            await IngestAsync(await sampler.SampleAsync(_node, Group, cancellationToken));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Sampling host {Node} failed", _node);
        }
    }

    private async Task IngestAsync(ResourceSample sample)
    {
        if (!_registered)
        {
            _cluster = await GrainFactory.GetGrain<IResourceDirectoryGrain>(0).RegisterAsync(_node);
            _registered = true;
        }
        var events = _monitor.Ingest(sample, ThresholdsOf);
        var groupChanged = sample.Group is not null && sample.Group != state.State.Group;
        if (events.Count > 0 || groupChanged)
        {
            // The events are kept with the alert state they belong to, then delivered; what fails to go out goes with the next sample.
            state.State.Group = sample.Group ?? state.State.Group;
            state.State.ActiveAlerts = [.. _monitor.ActiveAlerts];
            state.State.KnownGpus = [.. _monitor.KnownGpus];
            state.State.Outbox.AddRange(events);
            await state.WriteStateAsync();
            foreach (var alert in events)
            {
                logger.LogInformation("Alert {Kind} {Level}: {Message}", alert.Kind, alert.Level, alert.Message);
                KyrosTelemetry.AlertEvents.Add(1, new("level", AlertLevels.Name(alert.Level)), new("metric", alert.Metric), new("kind", alert.Kind.ToString().ToLowerInvariant()));
            }
        }
        if (state.State.Outbox.Count > 0) await DeliverAsync();
    }

    /// <summary>Sends the outbox to the alert log and the stream; on failure it stays for the next try.</summary>
    private async Task DeliverAsync()
    {
        var pending = state.State.Outbox.ToArray();
        if (!await AlertDelivery.TryDeliverAsync(GrainFactory, _stream, pending, logger, _node)) return;
        state.State.Outbox.RemoveRange(0, pending.Length);
        await state.WriteStateAsync();
    }

    private AlertThresholds? ThresholdsOf(string metric) => DefaultThresholds.For(metric, _cluster, state.State.Thresholds)?.Levels;
}
