using Kyros.Perf.Common;
using Kyros.Perf.History;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace Kyros.Perf.Resources;

[GenerateSerializer, Alias("kyros.AlertLogState")]
public sealed class AlertLogState
{
    /// <summary>Oldest first.</summary>
    [Id(0)] public List<AlertEvent> Events { get; set; } = [];
    [Id(1)] public Dictionary<string, ActiveAlert> Active { get; set; } = [];
    /// <summary>Whether older events were dropped from the state (they remain in SQLite).</summary>
    [Id(2)] public bool Truncated { get; set; }
}
