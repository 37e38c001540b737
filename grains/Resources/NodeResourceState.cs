using Kyros.Perf.Common;
using Kyros.Perf.HostSampling;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Streams;

namespace Kyros.Perf.Resources;

[GenerateSerializer, Alias("kyros.NodeResourceState")]
public sealed class NodeResourceState
{
    /// <summary>This host's own thresholds, over the cluster's.</summary>
    [Id(0)] public Dictionary<string, AlertThresholds> Thresholds { get; set; } = [];
    [Id(1)] public List<ActiveAlert> ActiveAlerts { get; set; } = [];
    [Id(2)] public List<string> KnownGpus { get; set; } = [];
    [Id(3)] public string? Group { get; set; }
    /// <summary>Alert events not yet delivered to the alert log and the stream.</summary>
    [Id(4)] public List<AlertEvent> Outbox { get; set; } = [];
}
