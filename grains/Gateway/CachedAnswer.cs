namespace Kyros.Perf.Gateway;

/// <summary>What the response cache keeps of an answer: enough to answer again in the same shape, and what the call cost.</summary>
public sealed record CachedAnswer(
    string Model,
    string Text,
    string? Refusal,
    IReadOnlyList<ToolCall> ToolCalls,
    string FinishReason,
    long InputTokens,
    long OutputTokens,
    string UsageSource,
    double Cost,
    bool Simulated);
