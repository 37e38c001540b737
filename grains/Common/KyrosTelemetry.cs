using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Kyros.Perf.Common;

/// <summary>
/// The product's own OpenTelemetry instruments: an <see cref="ActivitySource"/> per area and one <see cref="Meter"/>.
/// With nothing listening (no exporter configured), starting an activity returns null and a measurement is dropped at
/// once: the hot paths pay a few nanoseconds. Every name starts with <see cref="Prefix"/>, which OTLP ingestion ignores,
/// so a silo that exports its traces to a Kyros.Perf cluster does not record its own gateway calls twice.
/// </summary>
public static class KyrosTelemetry
{
    public const string Prefix = "Kyros.Perf";
    public const string MeterName = Prefix;

    /// <summary>A generation and each provider attempt within it.</summary>
    public static readonly ActivitySource Gateway = new($"{Prefix}.Gateway");
    /// <summary>Routing decisions.</summary>
    public static readonly ActivitySource Routing = new($"{Prefix}.Routing");
    /// <summary>Writing records to a model's statistics.</summary>
    public static readonly ActivitySource Recording = new($"{Prefix}.Recording");

    private static readonly Meter Meter = new(MeterName);

    public static readonly Counter<long> Records = Meter.CreateCounter<long>("kyros.records", "{record}",
        "Records taken into a model's statistics (duplicates not counted), by model.");
    public static readonly Counter<long> Decisions = Meter.CreateCounter<long>("kyros.routing.decisions", "{decision}",
        "Routing decisions, by strategy and chosen model.");
    public static readonly Histogram<double> DecisionDuration = Meter.CreateHistogram<double>("kyros.routing.decision.duration", "s",
        "Time to compute a routing decision.");
    public static readonly Counter<long> Generations = Meter.CreateCounter<long>("kyros.gateway.generations", "{generation}",
        "Gateway generations, by the model that answered (or the one asked for) and outcome (ok or the error kind).");
    public static readonly Histogram<double> GenerationDuration = Meter.CreateHistogram<double>("kyros.gateway.generation.duration", "s",
        "Time from routing to the last token of a generation, fallbacks and retries included.");
    public static readonly Counter<long> AlertEvents = Meter.CreateCounter<long>("kyros.alerts.events", "{event}",
        "Alert events raised or cleared on host resources, by level and metric.");
}
