using Kyros.Perf.Common;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Kyros.Perf.Resources;

[GenerateSerializer, Alias("kyros.ResourceDirectoryState")]
public sealed class ResourceDirectoryState
{
    [Id(0)] public HashSet<string> Nodes { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public Dictionary<string, AlertThresholds> Thresholds { get; set; } = [];
}
