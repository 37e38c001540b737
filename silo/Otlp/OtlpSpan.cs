namespace Kyros.Perf.Silo.Otlp;

/// <summary>
/// One span of an OTLP trace export, with what Kyros reads of it: ids, times, status, its scope, and the GenAI
/// attributes (every other attribute is skipped as it is read).
/// </summary>
public sealed class OtlpSpan
{
    public string TraceId { get; set; } = "";
    public string SpanId { get; set; } = "";
    /// <summary>Empty for a trace's root span.</summary>
    public string ParentSpanId { get; set; } = "";
    public string Name { get; set; } = "";
    public ulong StartTimeUnixNano { get; set; }
    public ulong EndTimeUnixNano { get; set; }
    /// <summary>0 unset, 1 ok, 2 error (OTLP's StatusCode).</summary>
    public int StatusCode { get; set; }
    public string? StatusMessage { get; set; }
    /// <summary>The instrumentation scope that made it (the ActivitySource's name in .NET).</summary>
    public string? Scope { get; set; }

    public string? Operation { get; set; }
    public string? RequestModel { get; set; }
    public string? ResponseModel { get; set; }
    public string? ErrorType { get; set; }
    public string? ServerAddress { get; set; }
    public long? ServerPort { get; set; }
    public long? InputTokens { get; set; }
    public long? OutputTokens { get; set; }
    /// <summary>Seconds to the first token or chunk, where the instrumentation records it.</summary>
    public double? TimeToFirstToken { get; set; }

    /// <summary>A GenAI attribute of the wrong type (a token count as text, say): the span is rejected naming it.</summary>
    public string? BadAttribute { get; set; }

    /// <summary>The attributes read, by their semantic-convention names; what each sets.</summary>
    public static class Attributes
    {
        public const string Operation = "gen_ai.operation.name";
        public const string RequestModel = "gen_ai.request.model";
        public const string ResponseModel = "gen_ai.response.model";
        public const string InputTokens = "gen_ai.usage.input_tokens";
        public const string OutputTokens = "gen_ai.usage.output_tokens";
        // The names before the conventions settled on input and output.
        public const string PromptTokens = "gen_ai.usage.prompt_tokens";
        public const string CompletionTokens = "gen_ai.usage.completion_tokens";
        public const string TimeToFirstChunk = "gen_ai.response.time_to_first_chunk";
        public const string ServerTimeToFirstToken = "gen_ai.server.time_to_first_token";
        public const string ErrorType = "error.type";
        public const string ServerAddress = "server.address";
        public const string ServerPort = "server.port";
    }

    /// <summary>Takes one attribute's value (text, whole number, or number) if it is one Kyros reads.</summary>
    public void Set(string key, string? text, long? whole, double? number)
    {
        switch (key)
        {
            case Attributes.Operation: Operation = Text(key, text); break;
            case Attributes.RequestModel: RequestModel = Text(key, text); break;
            case Attributes.ResponseModel: ResponseModel = Text(key, text); break;
            case Attributes.ErrorType: ErrorType = Text(key, text); break;
            case Attributes.ServerAddress: ServerAddress = Text(key, text); break;
            case Attributes.ServerPort: ServerPort = Whole(key, whole, number); break;
            case Attributes.InputTokens: InputTokens = Whole(key, whole, number); break;
            case Attributes.OutputTokens: OutputTokens = Whole(key, whole, number); break;
            case Attributes.PromptTokens: InputTokens ??= Whole(key, whole, number); break;
            case Attributes.CompletionTokens: OutputTokens ??= Whole(key, whole, number); break;
            case Attributes.TimeToFirstChunk or Attributes.ServerTimeToFirstToken: TimeToFirstToken = number ?? whole; break;
        }
    }

    private string? Text(string key, string? text)
    {
        if (text is null) BadAttribute ??= $"{key} must be a string";
        return text;
    }

    private long? Whole(string key, long? whole, double? number)
    {
        if (whole is not null) return whole;
        if (number is { } n && n == Math.Floor(n) && Math.Abs(n) < 1e15) return (long)n;
        BadAttribute ??= $"{key} must be a whole number";
        return null;
    }
}
