using System.Globalization;
using Kyros.Perf.Catalog;
using Kyros.Perf.Stats;

namespace Kyros.Perf.Silo.Otlp;

/// <summary>What became of a span: a record, a rejection (and why, naming the attribute), or nothing (not a GenAI model call).</summary>
public readonly record struct SpanOutcome(ModelPerformanceRecord? Record, string? Rejection);

/// <summary>
/// Turns a span that is a GenAI model call (OpenTelemetry's GenAI semantic conventions) into one performance record:
/// the catalog model (through the alias table), duration, tokens, success and error kind, instance, the catalog's cost,
/// and a request id made of the trace and span ids, so that an exporter's retry counts once.
/// </summary>
public sealed class GenAiSpanMapper(ModelCatalog catalog, Microsoft.Extensions.Options.IOptions<OtlpOptions> options)
{
    private readonly Dictionary<string, string> _aliases = options.Value.ModelAliases;
    private readonly List<string> _ignoredScopes = options.Value.IgnoredScopes;

    /// <summary>The operations that are one call to a model (<c>gen_ai.operation.name</c>).</summary>
    public static readonly IReadOnlySet<string> ModelCalls = new HashSet<string>(StringComparer.Ordinal)
    {
        "chat", "text_completion", "generate_content", "completion", "embeddings",
    };

    public const string RequestIdPrefix = "otel-";

    public SpanOutcome Map(OtlpSpan span, DateTimeOffset now)
    {
        if (span.Operation is not { } operation || !ModelCalls.Contains(operation) || IsIgnored(span.Scope)) return default;
        if (span.BadAttribute is { } bad) return Reject(bad);
        if (span.TraceId.Length != 32 || span.SpanId.Length != 16) return Reject("trace_id and span_id must be 16 and 8 bytes");
        var named = span.RequestModel ?? span.ResponseModel;
        if (named is null) return Reject($"{OtlpSpan.Attributes.RequestModel} is missing");
        var model = Resolve(span.RequestModel) ?? Resolve(span.ResponseModel);
        if (model is null)
            return Reject($"{OtlpSpan.Attributes.RequestModel} '{named}' is not in the catalog (nor mapped to it by Kyros:Otlp:ModelAliases)");
        if (span.StartTimeUnixNano == 0) return Reject("start_time_unix_nano is missing");
        if (span.EndTimeUnixNano < span.StartTimeUnixNano) return Reject("end_time_unix_nano is before start_time_unix_nano");
        if (span.InputTokens < 0) return Reject($"{OtlpSpan.Attributes.InputTokens} is negative ({span.InputTokens})");
        if (span.OutputTokens < 0) return Reject($"{OtlpSpan.Attributes.OutputTokens} is negative ({span.OutputTokens})");
        if (span.TimeToFirstToken is < 0) return Reject($"{OtlpSpan.Attributes.TimeToFirstChunk} is negative");

        var input = span.InputTokens ?? 0;
        var output = span.OutputTokens ?? 0;
        var failed = span.StatusCode == 2 || span.ErrorType is not null;
        var execution = (span.EndTimeUnixNano - span.StartTimeUnixNano) / 1e9;
        var record = new ModelPerformanceRecord(
            Model: model.Id,
            Instance: span.ServerAddress is { Length: > 0 } address ? span.ServerPort is { } port ? $"{address}:{port.ToString(CultureInfo.InvariantCulture)}" : address : null,
            Timestamp: DateTimeOffset.UnixEpoch.AddTicks((long)(span.StartTimeUnixNano / 100)),
            ExecutionTime: execution,
            TimeToFirstToken: span.TimeToFirstToken is { } ttft && ttft <= execution ? ttft : null,
            InputTokens: input,
            OutputTokens: output,
            Success: !failed,
            ErrorKind: failed ? ErrorKindOf(span.ErrorType) : null,
            Cost: model.PriceOf(input, output),
            QualityScore: null,
            RequestId: RequestIdPrefix + span.TraceId + "-" + span.SpanId);
        try
        {
            // The same rules as a posted record (its age, its fields' ranges), named as the span's.
            RecordValidator.Validate(record, now);
        }
        catch (ArgumentException exception)
        {
            return Reject(Common.ArgumentErrors.DetailOf(exception));
        }
        return new SpanOutcome(record, null);
    }

    /// <summary>
    /// <c>error.type</c> as an error kind: lower case, other characters as '_', at most 64 (instrumentations send exception
    /// type names such as <c>System.ClientModel.ClientResultException</c>, or HTTP statuses such as <c>500</c>).
    /// </summary>
    public static string ErrorKindOf(string? errorType)
    {
        if (string.IsNullOrWhiteSpace(errorType)) return "error";
        var kind = string.Create(Math.Min(errorType.Length, 64), errorType, static (chars, text) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                var c = char.ToLowerInvariant(text[i]);
                chars[i] = char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' or '.' ? c : '_';
            }
        });
        return kind;
    }

    private ModelDescriptor? Resolve(string? name)
    {
        if (name is null) return null;
        if (_aliases.TryGetValue(name, out var id)) name = id;
        return catalog.IsRecordable(name) ? catalog.Find(name) ?? Removed(name) : null;
    }

    // A model removed within its grace period still takes records; its price is gone, so it costs 0.
    private static ModelDescriptor Removed(string id) => new() { Id = id };

    private bool IsIgnored(string? scope)
    {
        if (scope is null) return false;
        foreach (var ignored in _ignoredScopes)
            if (scope.StartsWith(ignored, StringComparison.Ordinal)) return true;
        return false;
    }

    private static SpanOutcome Reject(string why) => new(null, why);
}
