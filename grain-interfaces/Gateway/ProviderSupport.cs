namespace Kyros.Perf.Gateway;

/// <summary>What a request carries that only some providers take; routing skips a model whose provider lacks one.</summary>
[Flags, GenerateSerializer]
public enum ProviderNeeds
{
    None = 0,
    /// <summary>An <c>input_audio</c> content part.</summary>
    InputAudio = 1,
    /// <summary><c>logprobs</c> or <c>top_logprobs</c>.</summary>
    Logprobs = 2,
    /// <summary><c>metadata</c> (key-value pairs stored with the completion).</summary>
    Metadata = 4,
    /// <summary><c>seed</c>.</summary>
    Seed = 8,
    /// <summary><c>presence_penalty</c> or <c>frequency_penalty</c>.</summary>
    Penalties = 16,
    /// <summary>A <c>tool_choice</c> other than <c>auto</c>, or <c>parallel_tool_calls</c>.</summary>
    ToolControl = 32,
    /// <summary><c>user</c>.</summary>
    User = 64,
    /// <summary>An image given by an http(s) URL (rather than a <c>data:</c> URL).</summary>
    ImageUrl = 128,
}

/// <summary>
/// Which request fields each provider carries beyond the common ones (messages, tools, images, response formats,
/// sampling): the table behind routing's provider check and docs/gateway.md.
/// </summary>
public static class ProviderSupport
{
    private static readonly ProviderNeeds OpenAiFamily = ProviderNeeds.InputAudio | ProviderNeeds.Logprobs | ProviderNeeds.Metadata | ProviderNeeds.Seed
                                                         | ProviderNeeds.Penalties | ProviderNeeds.ToolControl | ProviderNeeds.User | ProviderNeeds.ImageUrl;

    public static ProviderNeeds Of(string provider) => provider switch
    {
        // The simulated provider plays an OpenAI model.
        "simulated" or "openai-compatible" or "azure-openai" => OpenAiFamily,
        // Ollama's API takes no tool_choice, no user, and images only as data.
        "ollama" => ProviderNeeds.Seed | ProviderNeeds.Penalties,
        // Anthropic's Messages API has no seed, penalties, logprobs, audio input or free-form metadata.
        "anthropic" => ProviderNeeds.ToolControl | ProviderNeeds.User | ProviderNeeds.ImageUrl,
        _ => ProviderNeeds.None,
    };

    /// <summary>The request field (as JSON spells it) that <paramref name="provider"/> cannot carry, or null when it carries all of <paramref name="needs"/>.</summary>
    public static string? Lacks(string provider, ProviderNeeds needs)
    {
        var missing = needs & ~Of(provider);
        if (missing == ProviderNeeds.None) return null;
        return missing.HasFlag(ProviderNeeds.InputAudio) ? "input_audio"
            : missing.HasFlag(ProviderNeeds.Logprobs) ? "logprobs"
            : missing.HasFlag(ProviderNeeds.Metadata) ? "metadata"
            : missing.HasFlag(ProviderNeeds.Seed) ? "seed"
            : missing.HasFlag(ProviderNeeds.Penalties) ? "presence_penalty/frequency_penalty"
            : missing.HasFlag(ProviderNeeds.ToolControl) ? "tool_choice/parallel_tool_calls"
            : missing.HasFlag(ProviderNeeds.User) ? "user"
            : "an image URL (give it as a data: URL)";
    }
}
