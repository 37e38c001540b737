using Kyros.Perf.Resources;

namespace Kyros.Perf.Alerts;

/// <summary>A model's open alerts (restored when its grain is activated again) and the events not yet delivered.</summary>
[GenerateSerializer, Alias("kyros.ModelAlertState")]
public sealed class ModelAlertState
{
    [Id(0)] public List<ActiveAlert> Active { get; set; } = [];
    [Id(1)] public List<AlertEvent> Outbox { get; set; } = [];
}
