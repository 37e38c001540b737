using Kyros.Perf.Routing;

namespace Kyros.Perf.Gateway;

/// <summary>
/// One message of a conversation: <c>system</c>, <c>user</c>, <c>assistant</c> or <c>tool</c>. <see cref="Content"/> is
/// its text (all its text parts, joined); <see cref="Parts"/> keeps the parts as sent when there is more than text.
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.ChatTurn")]
public sealed record ChatTurn([property: Id(0)] string Role, [property: Id(1)] string Content)
{
    /// <summary>The content as parts (text, images, audio) in order; null when the content is text alone.</summary>
    [Id(2)] public IReadOnlyList<ContentPart>? Parts { get; init; }
    /// <summary>An assistant message's tool calls.</summary>
    [Id(3)] public IReadOnlyList<ToolCall>? ToolCalls { get; init; }
    /// <summary>A <c>tool</c> message's answer is to this call.</summary>
    [Id(4)] public string? ToolCallId { get; init; }
    /// <summary>The participant's name (OpenAI's <c>name</c>).</summary>
    [Id(5)] public string? Name { get; init; }
    /// <summary>A tool result that reports a failure (Anthropic's <c>is_error</c>).</summary>
    [Id(6)] public bool IsError { get; init; }
}

/// <summary>A part of a message: <c>text</c>, <c>image</c> (an http(s) URL or a <c>data:</c> URL) or <c>audio</c> (base64 data).</summary>
[GenerateSerializer, Immutable, Alias("kyros.ContentPart")]
public sealed record ContentPart([property: Id(0)] string Type, [property: Id(1)] string? Text = null, [property: Id(2)] string? Url = null)
{
    public const string TextType = "text", ImageType = "image", AudioType = "audio";
    /// <summary>An image's or an audio clip's media type (<c>image/png</c>, <c>audio/wav</c>, <c>audio/mpeg</c>).</summary>
    [Id(3)] public string? MediaType { get; init; }
    /// <summary>Audio's base64 data.</summary>
    [Id(4)] public string? Data { get; init; }
    /// <summary>An image's <c>detail</c> (<c>auto</c>, <c>low</c>, <c>high</c>), as OpenAI takes it.</summary>
    [Id(5)] public string? Detail { get; init; }
}

/// <summary>A function the model may call: its name, what it does, and its parameters as a JSON schema (the text as sent).</summary>
[GenerateSerializer, Immutable, Alias("kyros.ToolDefinition")]
public sealed record ToolDefinition([property: Id(0)] string Name, [property: Id(1)] string? Description, [property: Id(2)] string ParametersJson)
{
    [Id(3)] public bool? Strict { get; init; }
}

/// <summary>A call the model asked for: the call's id, the function and its arguments as JSON text.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ToolCall")]
public sealed record ToolCall([property: Id(0)] string Id, [property: Id(1)] string Name, [property: Id(2)] string ArgumentsJson);

/// <summary>How the model may use the tools: <c>auto</c>, <c>none</c>, <c>required</c> (any tool), or <c>function</c> with its name.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ToolChoice")]
public sealed record ToolChoice([property: Id(0)] string Mode, [property: Id(1)] string? Function = null)
{
    public const string Auto = "auto", None = "none", Required = "required", Named = "function";
}

/// <summary>The answer's format: <c>text</c>, <c>json_object</c>, or <c>json_schema</c> with a named schema (the text as sent).</summary>
[GenerateSerializer, Immutable, Alias("kyros.ResponseFormat")]
public sealed record ResponseFormat([property: Id(0)] string Type, [property: Id(1)] string? Name = null, [property: Id(2)] string? SchemaJson = null)
{
    public const string Text = "text", JsonObject = "json_object", JsonSchema = "json_schema";
    [Id(3)] public string? Description { get; init; }
    [Id(4)] public bool? Strict { get; init; }
}

/// <summary>One token's log probability, and the most likely alternatives at that place.</summary>
[GenerateSerializer, Immutable, Alias("kyros.TokenLogprob")]
public sealed record TokenLogprob([property: Id(0)] string Token, [property: Id(1)] double Logprob, [property: Id(2)] IReadOnlyList<TokenLogprob>? Top = null);

/// <summary>One of the answers of a generation with <c>n</c> &gt; 1, after the first (which is the result itself).</summary>
[GenerateSerializer, Immutable, Alias("kyros.GeneratedChoice")]
public sealed record GeneratedChoice
{
    [Id(0)] public required string Text { get; init; }
    [Id(1)] public string FinishReason { get; init; } = "stop";
    [Id(2)] public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];
    [Id(3)] public string? Refusal { get; init; }
    [Id(4)] public IReadOnlyList<TokenLogprob>? Logprobs { get; init; }
}

/// <summary>
/// A generation: a prompt or messages, and how to pick the model: a strategy and the request's requirements, or one
/// model by id (then there is no fallback to others).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.GenerateRequest")]
public sealed record GenerateRequest
{
    [Id(0)] public string? Prompt { get; init; }
    [Id(1)] public IReadOnlyList<ChatTurn>? Messages { get; init; }
    [Id(2)] public RoutingStrategy Strategy { get; init; } = RoutingStrategy.Balanced;
    [Id(3)] public RequestFeatures? Features { get; init; }
    [Id(4)] public int MaxTokens { get; init; } = DefaultMaxTokens;

    public const int DefaultMaxTokens = 256;
    [Id(5)] public double? Temperature { get; init; }
    /// <summary>A catalog model to use instead of routing.</summary>
    [Id(6)] public string? Model { get; init; }
    /// <summary>Candidate models for routing; null is the whole catalog.</summary>
    [Id(7)] public IReadOnlyList<string>? Candidates { get; init; }
    [Id(8)] public IReadOnlyList<ToolDefinition>? Tools { get; init; }
    [Id(9)] public ToolChoice? ToolChoice { get; init; }
    [Id(10)] public bool? ParallelToolCalls { get; init; }
    [Id(11)] public ResponseFormat? ResponseFormat { get; init; }
    /// <summary>How many answers to generate (each is a call to the model, recorded as one).</summary>
    [Id(12)] public int Choices { get; init; } = 1;
    [Id(13)] public IReadOnlyList<string>? Stop { get; init; }
    [Id(14)] public long? Seed { get; init; }
    [Id(15)] public double? TopP { get; init; }
    [Id(16)] public double? PresencePenalty { get; init; }
    [Id(17)] public double? FrequencyPenalty { get; init; }
    [Id(18)] public bool Logprobs { get; init; }
    [Id(19)] public int? TopLogprobs { get; init; }
    /// <summary>The end user, as the caller names them (passed on; Anthropic's <c>metadata.user_id</c>).</summary>
    [Id(20)] public string? User { get; init; }
    [Id(21)] public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    /// <summary>Anthropic's <c>top_k</c>.</summary>
    [Id(22)] public int? TopK { get; init; }

    /// <summary>The conversation the model is given: the messages, or the prompt as one user message.</summary>
    public IReadOnlyList<ChatTurn> Conversation => Messages is { Count: > 0 } ? Messages : [new ChatTurn("user", Prompt ?? "")];
}

/// <summary>Tokens of a generation, as the provider counted them, or counted here with the tokenizer when it gave none.</summary>
[GenerateSerializer, Immutable, Alias("kyros.Usage")]
public sealed record TokenUsage([property: Id(0)] long InputTokens, [property: Id(1)] long OutputTokens, [property: Id(2)] string Source)
{
    public long TotalTokens => InputTokens + OutputTokens;
}

/// <summary>One call to one model: how it ended and how long it took.</summary>
[GenerateSerializer, Immutable, Alias("kyros.Attempt")]
public sealed record Attempt(
    [property: Id(0)] string Model,
    [property: Id(1)] bool Success,
    [property: Id(2)] string? ErrorKind,
    [property: Id(3)] string? Error,
    [property: Id(4)] double LatencySeconds,
    /// <summary>How long the provider asked to wait before the next try (rate limits), when it said.</summary>
    [property: Id(5)] double? RetryAfterSeconds);

[GenerateSerializer, Immutable, Alias("kyros.GenerateResult")]
public sealed record GenerateResult
{
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required string Model { get; init; }
    [Id(2)] public required string Text { get; init; }
    [Id(3)] public required RoutingDecision Decision { get; init; }
    [Id(4)] public required TokenUsage Usage { get; init; }
    [Id(5)] public required double LatencySeconds { get; init; }
    [Id(6)] public double? TtftSeconds { get; init; }
    [Id(7)] public required double Cost { get; init; }
    [Id(8)] public required IReadOnlyList<Attempt> Attempts { get; init; }
    /// <summary>True when the text came from the simulated provider, not a real model.</summary>
    [Id(9)] public required bool Simulated { get; init; }
    [Id(10)] public string FinishReason { get; init; } = "stop";
    /// <summary>The tools the model called (then <see cref="FinishReason"/> is <c>tool_calls</c>).</summary>
    [Id(11)] public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];
    /// <summary>The model's refusal to answer, when it gave one instead of (or beside) text.</summary>
    [Id(12)] public string? Refusal { get; init; }
    /// <summary>Each output token's log probability, when the request asked for them.</summary>
    [Id(13)] public IReadOnlyList<TokenLogprob>? Logprobs { get; init; }
    /// <summary>With <c>n</c> &gt; 1, the answers after the first; <see cref="Usage"/> and <see cref="Cost"/> cover them all.</summary>
    [Id(14)] public IReadOnlyList<GeneratedChoice> MoreChoices { get; init; } = [];
}

/// <summary>The model's error, passed back to the caller: every model failed, or the provider refused the request (a 4xx).</summary>
[GenerateSerializer, Alias("kyros.GenerationFailedException")]
public sealed class GenerationFailedException : Exception
{
    public GenerationFailedException(string message, int status, IReadOnlyList<Attempt> attempts) : base(message)
    {
        Status = status;
        Attempts = attempts;
    }

    /// <summary>The HTTP status to answer: the provider's own 4xx, 504 for timeouts, 502 otherwise.</summary>
    [Id(0)] public int Status { get; }
    [Id(1)] public IReadOnlyList<Attempt> Attempts { get; }
}
