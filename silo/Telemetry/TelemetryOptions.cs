using Microsoft.Extensions.Options;
using OpenTelemetry.Exporter;

namespace Kyros.Perf.Silo.Telemetry;

/// <summary>
/// The silo's own traces and metrics over OTLP (<c>Kyros:Telemetry</c>). Export is on when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (in the environment or configuration) and <c>OTEL_SDK_DISABLED</c> is not true.
/// </summary>
public sealed class TelemetryOptions
{
    public const string Section = "Kyros:Telemetry";
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string ProtocolSetting = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public const string DisabledSetting = "OTEL_SDK_DISABLED";

    /// <summary>The share of traces kept (0–1) when the caller did not decide: a caller's sampled <c>traceparent</c> is always followed.</summary>
    public double SampleRatio { get; set; } = 1.0;

    /// <summary>Traces on or off, with metrics still exported.</summary>
    public bool Traces { get; set; } = true;

    /// <summary>The OTLP collector's base address (signal paths are added for <c>http/protobuf</c>); null: export off.</summary>
    public Uri? Endpoint { get; private set; }

    public OtlpExportProtocol Protocol { get; private set; } = OtlpExportProtocol.Grpc;

    public bool Exporting => Endpoint is not null;
    public bool Tracing => Exporting && Traces;

    /// <summary>Binds and validates: a bad endpoint, protocol or ratio stops the silo at start naming the setting.</summary>
    public static TelemetryOptions Read(IConfiguration configuration)
    {
        var options = new TelemetryOptions();
        configuration.GetSection(Section).Bind(options);
        var errors = new List<string>();
        if (!(options.SampleRatio is >= 0 and <= 1)) errors.Add($"{Section}:SampleRatio must be between 0 and 1.");
        var disabled = string.Equals(configuration[DisabledSetting], "true", StringComparison.OrdinalIgnoreCase);
        if (configuration[EndpointSetting] is { Length: > 0 } endpoint && !disabled)
        {
            if (Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https") options.Endpoint = uri;
            else errors.Add($"{EndpointSetting} must be an http(s) address, such as http://collector:4317.");
            switch (configuration[ProtocolSetting])
            {
                case null or "" or "grpc": options.Protocol = OtlpExportProtocol.Grpc; break;
                case "http/protobuf": options.Protocol = OtlpExportProtocol.HttpProtobuf; break;
                default: errors.Add($"{ProtocolSetting} must be grpc or http/protobuf."); break;
            }
        }
        if (errors.Count > 0) throw new OptionsValidationException(Section, typeof(TelemetryOptions), errors);
        return options;
    }
}
