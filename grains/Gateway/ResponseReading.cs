using System.Text.Json;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Gateway;

/// <summary>What a provider's streamed update carries beyond text, in the gateway's terms.</summary>
public static class ResponseReading
{
    /// <summary>Where the simulated provider (or any client of ours) puts an update's log probabilities.</summary>
    public const string LogprobsProperty = "kyros.logprobs";

    /// <summary>The update's tokens' log probabilities: the OpenAI client's own (its raw chunk), or ours; null when it has none.</summary>
    public static IReadOnlyList<TokenLogprob>? Logprobs(ChatResponseUpdate update)
    {
        if (update.AdditionalProperties?.TryGetValue(LogprobsProperty, out var ours) == true && ours is IReadOnlyList<TokenLogprob> given) return given;
        if (update.RawRepresentation is not OpenAI.Chat.StreamingChatCompletionUpdate { ContentTokenLogProbabilities: { Count: > 0 } tokens }) return null;
        return [.. tokens.Select(t => new TokenLogprob(t.Token, t.LogProbability,
            t.TopLogProbabilities is { Count: > 0 } top ? [.. top.Select(a => new TokenLogprob(a.Token, a.LogProbability))] : null))];
    }

    /// <summary>
    /// A piece of the model's refusal in an OpenAI chunk. The abstraction passes refusals on only beside tool calls
    /// (as one error item at the end), so the gateway reads them from the chunks themselves.
    /// </summary>
    public static string? RefusalPiece(ChatResponseUpdate update) =>
        update.RawRepresentation is OpenAI.Chat.StreamingChatCompletionUpdate { RefusalUpdate: { Length: > 0 } piece } ? piece : null;

    /// <summary>A call the model made, with its arguments as JSON text (an empty object when it gave none).</summary>
    public static ToolCall ToolCall(FunctionCallContent call) =>
        new(call.CallId, call.Name, call.Arguments is null ? "{}" : JsonSerializer.Serialize(call.Arguments, AIJsonUtilities.DefaultOptions));
}
