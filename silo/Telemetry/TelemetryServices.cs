using Kyros.Perf.Common;
using Kyros.Perf.Silo.Api;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Kyros.Perf.Silo.Telemetry;

/// <summary>
/// OpenTelemetry for the silo: Kyros' own sources and meter, Orleans' (grain calls as spans, its runtime meter),
/// ASP.NET Core's requests and the .NET runtime's meter, exported over OTLP beside the Prometheus text at <c>/metrics</c>.
/// Nothing is registered when no endpoint is set, so the hot paths find no listener.
/// </summary>
public static class TelemetryServices
{
    public const string OrleansSources = "Microsoft.Orleans.*";
    public const string OrleansMeter = "Microsoft.Orleans";

    public static TelemetryOptions AddKyrosTelemetry(this WebApplicationBuilder builder, string hostName)
    {
        var options = TelemetryOptions.Read(builder.Configuration);
        if (!options.Exporting) return options;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("kyros-perf", serviceInstanceId: hostName))
            .WithMetrics(metrics => metrics
                .AddMeter(KyrosTelemetry.MeterName, OrleansMeter, "System.Runtime", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel"));
        if (options.Tracing)
            telemetry.WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(options.SampleRatio)))
                .AddSource($"{KyrosTelemetry.Prefix}.*", OrleansSources)
                // Health probes and OTLP exports into this silo are not traced: an exporter pointed at its own silo would loop.
                .AddAspNetCoreInstrumentation(o => o.Filter = context =>
                    !context.Request.Path.StartsWithSegments("/healthz") && !context.Request.Path.StartsWithSegments(TracesEndpoint.Path)));
        telemetry.UseOtlpExporter(options.Protocol, options.Endpoint!);
        return options;
    }
}
