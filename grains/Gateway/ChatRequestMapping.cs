using System.Text.Json;
using Kyros.Perf.Catalog;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;
using ChatResponseFormat = Microsoft.Extensions.AI.ChatResponseFormat;

namespace Kyros.Perf.Gateway;

/// <summary>
/// A <see cref="GenerateRequest"/> in <c>Microsoft.Extensions.AI</c>'s terms, for any provider's <see cref="IChatClient"/>:
/// messages with their parts, tool calls and tool results, and options. For the OpenAI family (openai-compatible,
/// azure-openai) tools, tool choice, the response format, logprobs, user and metadata go in the OpenAI client's own
/// options, so schemas reach the model byte for byte (the abstraction's path rewrites them for strict mode).
/// </summary>
public static class ChatRequestMapping
{
    public static bool IsOpenAiFamily(string provider) => provider is "openai-compatible" or "azure-openai";

    public static List<ChatMessage> Messages(IReadOnlyList<ChatTurn> conversation)
    {
        var messages = new List<ChatMessage>(conversation.Count);
        foreach (var turn in conversation)
        {
            var contents = new List<AIContent>();
            if (turn.Role == "tool")
                contents.Add(new FunctionResultContent(turn.ToolCallId!, turn.Content) { Exception = turn.IsError ? new ToolFailedException(turn.Content) : null });
            else if (turn.Parts is { Count: > 0 } parts)
                contents.AddRange(parts.Select(Part));
            else if (turn.Content.Length > 0 || turn.ToolCalls is not { Count: > 0 })
                contents.Add(new TextContent(turn.Content));
            if (turn.ToolCalls is { } calls)
                contents.AddRange(calls.Select(c => new FunctionCallContent(c.Id, c.Name, Arguments(c.ArgumentsJson))));
            messages.Add(new ChatMessage(new ChatRole(turn.Role), contents) { AuthorName = turn.Name });
        }
        return messages;
    }

    public static ChatOptions Options(GenerateRequest request, ModelDescriptor model)
    {
        var options = new ChatOptions
        {
            MaxOutputTokens = request.MaxTokens,
            Temperature = (float?)request.Temperature,
            TopP = (float?)request.TopP,
            TopK = request.TopK,
            Seed = request.Seed,
            PresencePenalty = (float?)request.PresencePenalty,
            FrequencyPenalty = (float?)request.FrequencyPenalty,
            StopSequences = request.Stop is { Count: > 0 } stop ? [.. stop] : null,
        };
        if (IsOpenAiFamily(model.Provider))
        {
            options.RawRepresentationFactory = _ => OpenAiOptions(request);
            return options;
        }
        if (request.Tools is { Count: > 0 } tools)
        {
            options.Tools = [.. tools.Select(t => (AITool)new DeclaredTool(t))];
            options.AllowMultipleToolCalls = request.ParallelToolCalls;
        }
        options.ToolMode = request.ToolChoice?.Mode switch
        {
            ToolChoice.None => ChatToolMode.None,
            ToolChoice.Required => ChatToolMode.RequireAny,
            ToolChoice.Named => ChatToolMode.RequireSpecific(request.ToolChoice.Function!),
            ToolChoice.Auto => ChatToolMode.Auto,
            _ => null,
        };
        options.ResponseFormat = request.ResponseFormat switch
        {
            { Type: ResponseFormat.JsonObject } => ChatResponseFormat.Json,
            { Type: ResponseFormat.JsonSchema } f => ChatResponseFormat.ForJsonSchema(Parse(f.SchemaJson!), f.Name, f.Description),
            { Type: ResponseFormat.Text } => ChatResponseFormat.Text,
            _ => null,
        };
        if (request.User is { } user) (options.AdditionalProperties ??= [])[UserProperty] = user;
        if (request.Logprobs && model.Provider == "simulated") (options.AdditionalProperties ??= [])[LogprobsProperty] = request.TopLogprobs ?? 0;
        return options;
    }

    /// <summary>The end user's name in <see cref="ChatOptions.AdditionalProperties"/>, for providers that carry it their own way.</summary>
    public const string UserProperty = "kyros.user";
    /// <summary>For the simulated provider: logprobs were asked for, with this many alternatives per token.</summary>
    public const string LogprobsProperty = "kyros.top_logprobs";

    private static ChatCompletionOptions OpenAiOptions(GenerateRequest request)
    {
        var options = new ChatCompletionOptions();
        if (request.Tools is { Count: > 0 } tools)
        {
            foreach (var tool in tools)
                options.Tools.Add(ChatTool.CreateFunctionTool(tool.Name, tool.Description, BinaryData.FromString(tool.ParametersJson), tool.Strict));
            options.AllowParallelToolCalls = request.ParallelToolCalls;
        }
        options.ToolChoice = request.ToolChoice?.Mode switch
        {
            ToolChoice.None => ChatToolChoice.CreateNoneChoice(),
            ToolChoice.Required => ChatToolChoice.CreateRequiredChoice(),
            ToolChoice.Named => ChatToolChoice.CreateFunctionChoice(request.ToolChoice.Function!),
            ToolChoice.Auto => ChatToolChoice.CreateAutoChoice(),
            _ => null,
        };
        options.ResponseFormat = request.ResponseFormat switch
        {
            { Type: ResponseFormat.JsonObject } => OpenAI.Chat.ChatResponseFormat.CreateJsonObjectFormat(),
            { Type: ResponseFormat.JsonSchema } f => OpenAI.Chat.ChatResponseFormat.CreateJsonSchemaFormat(f.Name!, BinaryData.FromString(f.SchemaJson!), f.Description, f.Strict),
            { Type: ResponseFormat.Text } => OpenAI.Chat.ChatResponseFormat.CreateTextFormat(),
            _ => null,
        };
        if (request.Logprobs)
        {
            options.IncludeLogProbabilities = true;
            options.TopLogProbabilityCount = request.TopLogprobs;
        }
#pragma warning disable CS0618 // user is deprecated in favour of safety_identifier, but it is what callers send and servers take
        if (request.User is { } user) options.EndUserId = user;
#pragma warning restore CS0618
        if (request.Metadata is { } metadata)
            foreach (var (key, value) in metadata) options.Metadata[key] = value;
        return options;
    }

    private static AIContent Part(ContentPart part) => part.Type switch
    {
        ContentPart.ImageType when part.Url!.StartsWith("data:", StringComparison.OrdinalIgnoreCase) => WithDetail(new DataContent(part.Url), part.Detail),
        ContentPart.ImageType => WithDetail(new UriContent(new Uri(part.Url!), ImageMediaType(part.Url!)), part.Detail),
        ContentPart.AudioType => new DataContent(Convert.FromBase64String(part.Data!), part.MediaType!),
        _ => new TextContent(part.Text ?? ""),
    };

    private static AIContent WithDetail(AIContent content, string? detail)
    {
        if (detail is not null) (content.AdditionalProperties ??= [])["detail"] = detail;
        return content;
    }

    /// <summary>An image URL's media type from its extension; <c>image/*</c> when it has none we know.</summary>
    private static string ImageMediaType(string url) => Path.GetExtension(new Uri(url).AbsolutePath).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".gif" => "image/gif",
        ".webp" => "image/webp",
        _ => "image/*",
    };

    private static Dictionary<string, object?> Arguments(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone(), StringComparer.Ordinal);
    }

    private static JsonElement Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>A caller's tool, declared to the model (the gateway never invokes it: the caller does).</summary>
    private sealed class DeclaredTool(ToolDefinition tool) : AIFunctionDeclaration
    {
        private readonly JsonElement _schema = Parse(tool.ParametersJson);

        public override string Name => tool.Name;
        public override string Description => tool.Description ?? "";
        public override JsonElement JsonSchema => _schema;

        public override IReadOnlyDictionary<string, object?> AdditionalProperties { get; } =
            tool.Strict is { } strict ? new Dictionary<string, object?> { ["Strict"] = strict } : new Dictionary<string, object?>();
    }
}

/// <summary>A tool result the caller marked as a failure (Anthropic's <c>is_error</c>), carried to providers that take the flag.</summary>
public sealed class ToolFailedException(string message) : Exception(message);
