using Kyros.Perf.Routing;

namespace Kyros.Perf.Tuning;

/// <summary>The tuner's grain state: its configuration once changed, its schedule, its recommendations and what it has applied.</summary>
[GenerateSerializer, Alias("kyros.TunerState")]
public sealed class TunerState
{
    /// <summary>Null until changed through the API: until then the silo's <c>Kyros:Tuning</c> settings apply.</summary>
    [Id(0)] public TuningConfiguration? Configuration { get; set; }
    [Id(1)] public DateTimeOffset? FirstSeen { get; set; }
    [Id(2)] public DateTimeOffset? LastCycle { get; set; }
    [Id(3)] public long Cycles { get; set; }
    /// <summary>Oldest first.</summary>
    [Id(4)] public List<TuningRecommendation> Recommendations { get; set; } = [];
    [Id(5)] public long NextId { get; set; }
    [Id(6)] public long OverridesVersion { get; set; }
    [Id(7)] public RoutingWeights? AdaptiveBase { get; set; }
    [Id(8)] public Dictionary<string, double> Penalties { get; set; } = [];
    [Id(9)] public Dictionary<string, double> TimeoutSeconds { get; set; } = [];
}
