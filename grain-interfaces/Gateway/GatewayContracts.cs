using Kyros.Perf.Routing;

namespace Kyros.Perf.Gateway;

/// <summary>One message of a conversation: <c>system</c>, <c>user</c> or <c>assistant</c>.</summary>
[GenerateSerializer, Immutable, Alias("kyros.ChatTurn")]
public sealed record ChatTurn([property: Id(0)] string Role, [property: Id(1)] string Content);

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
