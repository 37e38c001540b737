using System.Text;
using System.Text.Json;
using Kyros.Perf.Gateway;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// OpenAI's chat completions request read into a <see cref="GenerateRequest"/>, field by field: every field is either
/// carried or refused with the field named (a field dropped in silence is the worst answer), and messages keep their
/// parts, tool calls and tool results. docs/gateway.md holds the table.
/// </summary>
public static class ChatCompletionJson
{
    /// <summary>The fields carried to the model (or, like <c>stream</c>, acted on by the gateway).</summary>
    public static readonly IReadOnlySet<string> Carried = new HashSet<string>(StringComparer.Ordinal)
    {
        "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "stream", "stream_options", "n", "tools", "tool_choice",
        "parallel_tool_calls", "response_format", "stop", "seed", "top_p", "presence_penalty", "frequency_penalty", "logprobs", "top_logprobs",
        "user", "metadata", "store", "request_features",
    };

    /// <summary>OpenAI fields the gateway knows and does not carry, with the reason the caller is told.</summary>
    public static readonly IReadOnlyDictionary<string, string> Refused = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["functions"] = "is deprecated and not carried: use tools",
        ["function_call"] = "is deprecated and not carried: use tool_choice",
        ["logit_bias"] = "is not carried: token ids differ between the models a request may be routed to",
        ["audio"] = "(audio output) is not supported by the gateway",
        ["modalities"] = "is not supported by the gateway: answers are text",
        ["prediction"] = "(predicted outputs) is not supported by the gateway",
        ["reasoning_effort"] = "is not supported by the gateway",
        ["service_tier"] = "is not supported by the gateway",
        ["web_search_options"] = "is not supported by the gateway",
        ["verbosity"] = "is not supported by the gateway",
        ["prompt_cache_key"] = "is not supported by the gateway",
        ["safety_identifier"] = "is not supported by the gateway: use user",
    };

    private static readonly HashSet<string> MessageFields = ["role", "content", "name", "tool_calls", "tool_call_id", "refusal"];
    private static readonly HashSet<string> ToolCallFields = ["id", "type", "function"];
    private static readonly HashSet<string> FunctionCallFields = ["name", "arguments"];
    private static readonly HashSet<string> ToolFields = ["type", "function"];
    private static readonly HashSet<string> FunctionFields = ["name", "description", "parameters", "strict"];
    private static readonly HashSet<string> JsonSchemaFields = ["name", "description", "schema", "strict"];
    private static readonly HashSet<string> StreamOptionsFields = ["include_usage"];
    private static readonly HashSet<string> TextPartFields = ["type", "text"];
    private static readonly HashSet<string> ImagePartFields = ["type", "image_url"];
    private static readonly HashSet<string> ImageUrlFields = ["url", "detail"];
    private static readonly HashSet<string> AudioPartFields = ["type", "input_audio"];
    private static readonly HashSet<string> InputAudioFields = ["data", "format"];
    private static readonly HashSet<string> PlainFormatFields = ["type"];
    private static readonly HashSet<string> JsonSchemaFormatFields = ["type", "json_schema"];
    private const string EmptyParameters = """{"type":"object","properties":{}}""";

    /// <summary>The request, whether to stream, and whether the stream ends with a usage chunk.</summary>
    public static (GenerateRequest Request, bool Stream, bool IncludeUsage) Read(JsonElement root, Catalog.ModelCatalog catalog)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a chat completion request object.", "body");
        foreach (var property in root.EnumerateObject())
        {
            if (Refused.TryGetValue(property.Name, out var why)) throw new ArgumentException($"{property.Name} {why}.", property.Name);
            if (!Carried.Contains(property.Name)) throw new ArgumentException($"{property.Name} is not a field of a chat completion request.", property.Name);
        }
        var model = JsonFields.String(root, "", "model") ?? throw new ArgumentException("model is required: auto, kyros/<strategy> or a model id.", "model");
        var messages = ReadMessages(root) ?? throw new ArgumentException("messages is required.", "messages");
        if (JsonFields.Bool(root, "", "store") is true) throw new ArgumentException("store: true is not supported: the gateway does not store completions at the provider.", "store");
        var stream = JsonFields.Bool(root, "", "stream") ?? false;
        var includeUsage = false;
        if (JsonFields.Field(root, "stream_options") is { } options)
        {
            if (options.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", "stream_options", "an object");
            JsonFields.RejectUnknown(options, "stream_options.", StreamOptionsFields, "stream_options");
            if (!stream) throw new ArgumentException("stream_options is only allowed with stream: true.", "stream_options");
            includeUsage = JsonFields.Bool(options, "stream_options.", "include_usage") ?? false;
        }
        var (strategy, only) = ChatCompletionsEndpoint.ResolveModel(model, catalog);
        var n = JsonFields.Integer(root, "", "n") ?? 1;
        var request = new GenerateRequest
        {
            Messages = messages,
            Strategy = strategy,
            Model = only,
            MaxTokens = GatewayEndpoints.ReadMaxTokens(root, "max_completion_tokens") ?? GatewayEndpoints.ReadMaxTokens(root, "max_tokens") ?? GenerateRequest.DefaultMaxTokens,
            Temperature = JsonFields.Number(root, "", "temperature"),
            Features = RoutingEndpoints.ReadFeatures(root),
            Tools = ReadTools(root),
            ToolChoice = ReadToolChoice(root),
            ParallelToolCalls = JsonFields.Bool(root, "", "parallel_tool_calls"),
            ResponseFormat = ReadResponseFormat(root),
            // The validator names n and its range; the clamp only keeps a huge number from wrapping round.
            Choices = (int)Math.Clamp(n, int.MinValue, int.MaxValue),
            Stop = JsonFields.Field(root, "stop") switch
            {
                null => null,
                { ValueKind: JsonValueKind.String } one => [one.GetString()!],
                { ValueKind: JsonValueKind.Array } many => [.. many.EnumerateArray().Select((s, i) => s.ValueKind == JsonValueKind.String ? s.GetString()! : throw JsonFields.WrongType("", $"stop[{i}]", "a string"))],
                _ => throw JsonFields.WrongType("", "stop", "a string or an array of strings"),
            },
            Seed = JsonFields.Integer(root, "", "seed"),
            TopP = JsonFields.Number(root, "", "top_p"),
            PresencePenalty = JsonFields.Number(root, "", "presence_penalty"),
            FrequencyPenalty = JsonFields.Number(root, "", "frequency_penalty"),
            Logprobs = JsonFields.Bool(root, "", "logprobs") ?? false,
            TopLogprobs = JsonFields.Integer(root, "", "top_logprobs") is { } top ? (int)Math.Clamp(top, int.MinValue, int.MaxValue) : null,
            User = JsonFields.String(root, "", "user"),
            Metadata = JsonFields.Field(root, "metadata") switch
            {
                null => null,
                { ValueKind: JsonValueKind.Object } pairs => pairs.EnumerateObject().ToDictionary(p => p.Name,
                    p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw JsonFields.WrongType("metadata.", p.Name, "a string"), StringComparer.Ordinal),
                _ => throw JsonFields.WrongType("", "metadata", "an object of strings"),
            },
        };
        return (request, stream, includeUsage);
    }

    /// <summary>OpenAI's messages: a role; content as a string or parts (text, image_url, input_audio); tool calls; tool results.</summary>
    public static IReadOnlyList<ChatTurn>? ReadMessages(JsonElement root) => JsonFields.Field(root, "messages") switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } array => array.EnumerateArray().Select(Message).ToArray(),
        _ => throw JsonFields.WrongType("", "messages", "an array of {role, content}"),
    };

    private static ChatTurn Message(JsonElement m, int i)
    {
        var at = $"messages[{i}].";
        if (m.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", $"messages[{i}]", "an object with role and content");
        JsonFields.RejectUnknown(m, at, MessageFields, "a message");
        var role = JsonFields.String(m, at, "role") ?? throw new ArgumentException($"{at}role is required.", at + "role");
        // OpenAI's newer name for system instructions; every provider takes them as system.
        if (role == "developer") role = "system";
        var toolCalls = JsonFields.Field(m, "tool_calls") switch
        {
            null => null,
            { ValueKind: JsonValueKind.Array } calls => calls.EnumerateArray().Select((c, j) => ReadToolCall(c, $"{at}tool_calls[{j}]")).ToArray(),
            _ => throw JsonFields.WrongType(at, "tool_calls", "an array of tool calls"),
        };
        List<ContentPart>? parts = null;
        string content;
        switch (JsonFields.Field(m, "content"))
        {
            case null when toolCalls is { Length: > 0 } || role == "assistant" && JsonFields.Field(m, "refusal") is not null:
                content = "";
                break;
            case null:
                throw new ArgumentException($"{at}content is required.", at + "content");
            case { ValueKind: JsonValueKind.String } text:
                content = text.GetString()!;
                break;
            case { ValueKind: JsonValueKind.Array } array:
                parts = [.. array.EnumerateArray().Select((p, j) => Part(p, $"{at}content[{j}]"))];
                content = string.Concat(parts.Where(p => p.Type == ContentPart.TextType).Select(p => p.Text));
                // Text alone is carried as text: providers that take a string take it unchanged.
                if (parts.All(p => p.Type == ContentPart.TextType)) parts = null;
                break;
            default:
                throw JsonFields.WrongType(at, "content", "a string or a list of content parts");
        }
        // An earlier refusal in the history is carried as the assistant's text: no provider takes it back as a refusal.
        if (JsonFields.String(m, at, "refusal") is { } refusal) content = content.Length == 0 ? refusal : content + refusal;
        return new ChatTurn(role, content)
        {
            Parts = parts,
            ToolCalls = toolCalls,
            ToolCallId = JsonFields.String(m, at, "tool_call_id"),
            Name = JsonFields.String(m, at, "name"),
        };
    }

    private static ContentPart Part(JsonElement p, string at)
    {
        if (p.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", at, "a content part object");
        var type = JsonFields.String(p, at + ".", "type") ?? throw new ArgumentException($"{at}.type is required.", at + ".type");
        switch (type)
        {
            case "text":
                JsonFields.RejectUnknown(p, at + ".", TextPartFields, "a text part");
                return new ContentPart(ContentPart.TextType, JsonFields.String(p, at + ".", "text") ?? throw JsonFields.Missing(at + ".", "text"));
            case "image_url":
                JsonFields.RejectUnknown(p, at + ".", ImagePartFields, "an image_url part");
                var image = JsonFields.Field(p, "image_url") is { ValueKind: JsonValueKind.Object } i ? i : throw JsonFields.WrongType(at + ".", "image_url", "an object with url");
                JsonFields.RejectUnknown(image, at + ".image_url.", ImageUrlFields, "image_url");
                return new ContentPart(ContentPart.ImageType, Url: JsonFields.String(image, at + ".image_url.", "url") ?? throw JsonFields.Missing(at + ".image_url.", "url"))
                    { Detail = JsonFields.String(image, at + ".image_url.", "detail") };
            case "input_audio":
                JsonFields.RejectUnknown(p, at + ".", AudioPartFields, "an input_audio part");
                var audio = JsonFields.Field(p, "input_audio") is { ValueKind: JsonValueKind.Object } a ? a : throw JsonFields.WrongType(at + ".", "input_audio", "an object with data and format");
                JsonFields.RejectUnknown(audio, at + ".input_audio.", InputAudioFields, "input_audio");
                var format = JsonFields.String(audio, at + ".input_audio.", "format");
                return new ContentPart(ContentPart.AudioType)
                {
                    Data = JsonFields.String(audio, at + ".input_audio.", "data"),
                    MediaType = format switch { "wav" => "audio/wav", "mp3" => "audio/mpeg", _ => throw new ArgumentException($"{at}.input_audio.format must be wav or mp3.", at + ".input_audio.format") },
                };
            case "refusal":
                return new ContentPart(ContentPart.TextType, JsonFields.String(p, at + ".", "refusal") ?? "");
            default:
                throw new ArgumentException($"{at}.type '{type}' is not supported: the gateway carries text, image_url and input_audio parts.", at + ".type");
        }
    }

    private static ToolCall ReadToolCall(JsonElement c, string at)
    {
        if (c.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", at, "a tool call object");
        JsonFields.RejectUnknown(c, at + ".", ToolCallFields, "a tool call");
        if (JsonFields.String(c, at + ".", "type") is { } type && type != "function")
            throw new ArgumentException($"{at}.type '{type}' is not supported: tool calls are functions.", at + ".type");
        var function = JsonFields.Field(c, "function") is { ValueKind: JsonValueKind.Object } f ? f : throw JsonFields.WrongType(at + ".", "function", "an object with name and arguments");
        JsonFields.RejectUnknown(function, at + ".function.", FunctionCallFields, "a function call");
        return new ToolCall(JsonFields.String(c, at + ".", "id") ?? throw JsonFields.Missing(at + ".", "id"),
            JsonFields.String(function, at + ".function.", "name") ?? throw JsonFields.Missing(at + ".function.", "name"),
            JsonFields.String(function, at + ".function.", "arguments") ?? "{}");
    }

    private static IReadOnlyList<ToolDefinition>? ReadTools(JsonElement root) => JsonFields.Field(root, "tools") switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } tools => [.. tools.EnumerateArray().Select((t, i) =>
        {
            var at = $"tools[{i}].";
            if (t.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", $"tools[{i}]", "a tool object");
            JsonFields.RejectUnknown(t, at, ToolFields, "a tool");
            if (JsonFields.String(t, at, "type") is var type && type != "function")
                throw new ArgumentException($"{at}type '{type}' is not supported: the gateway carries function tools.", at + "type");
            var function = JsonFields.Field(t, "function") is { ValueKind: JsonValueKind.Object } f ? f : throw JsonFields.WrongType(at, "function", "an object with name and parameters");
            JsonFields.RejectUnknown(function, at + "function.", FunctionFields, "a function");
            var parameters = JsonFields.Field(function, "parameters") is { } p
                ? p.ValueKind == JsonValueKind.Object ? p.GetRawText() : throw JsonFields.WrongType(at + "function.", "parameters", "a JSON schema object")
                : EmptyParameters;
            return new ToolDefinition(JsonFields.String(function, at + "function.", "name") ?? throw JsonFields.Missing(at + "function.", "name"),
                JsonFields.String(function, at + "function.", "description"), parameters) { Strict = JsonFields.Bool(function, at + "function.", "strict") };
        })],
        _ => throw JsonFields.WrongType("", "tools", "an array of tools"),
    };

    private static ToolChoice? ReadToolChoice(JsonElement root) => JsonFields.Field(root, "tool_choice") switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } mode => mode.GetString() is ToolChoice.Auto or ToolChoice.None or ToolChoice.Required
            ? new ToolChoice(mode.GetString()!)
            : throw new ArgumentException($"tool_choice '{mode.GetString()}' is not one of auto, none, required or {{type: function, function: {{name}}}}.", "tool_choice"),
        { ValueKind: JsonValueKind.Object } named when JsonFields.String(named, "tool_choice.", "type") == "function"
                                                      && JsonFields.Field(named, "function") is { ValueKind: JsonValueKind.Object } function =>
            new ToolChoice(ToolChoice.Named, JsonFields.String(function, "tool_choice.function.", "name") ?? throw JsonFields.Missing("tool_choice.function.", "name")),
        _ => throw JsonFields.WrongType("", "tool_choice", "auto, none, required or {type: function, function: {name}}"),
    };

    private static ResponseFormat? ReadResponseFormat(JsonElement root)
    {
        if (JsonFields.Field(root, "response_format") is not { } format) return null;
        if (format.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", "response_format", "an object with type");
        var type = JsonFields.String(format, "response_format.", "type") ?? throw JsonFields.Missing("response_format.", "type");
        switch (type)
        {
            case ResponseFormat.Text or ResponseFormat.JsonObject:
                JsonFields.RejectUnknown(format, "response_format.", PlainFormatFields, $"a {type} response format");
                return new ResponseFormat(type);
            case ResponseFormat.JsonSchema:
                JsonFields.RejectUnknown(format, "response_format.", JsonSchemaFormatFields, "a json_schema response format");
                var schema = JsonFields.Field(format, "json_schema") is { ValueKind: JsonValueKind.Object } s ? s : throw JsonFields.WrongType("response_format.", "json_schema", "an object with name and schema");
                JsonFields.RejectUnknown(schema, "response_format.json_schema.", JsonSchemaFields, "json_schema");
                return new ResponseFormat(type, JsonFields.String(schema, "response_format.json_schema.", "name") ?? throw JsonFields.Missing("response_format.json_schema.", "name"),
                    JsonFields.Field(schema, "schema") is { } body ? body.ValueKind == JsonValueKind.Object ? body.GetRawText() : throw JsonFields.WrongType("response_format.json_schema.", "schema", "a JSON schema object") : EmptyParameters)
                {
                    Description = JsonFields.String(schema, "response_format.json_schema.", "description"),
                    Strict = JsonFields.Bool(schema, "response_format.json_schema.", "strict"),
                };
            default:
                throw new ArgumentException($"response_format.type '{type}' is not one of text, json_object, json_schema.", "response_format.type");
        }
    }

    /// <summary>An answer's message in OpenAI's shape: content (null when the model only called tools), refusal, tool calls.</summary>
    public static Dictionary<string, object?> Message(string text, string? refusal, IReadOnlyList<ToolCall> toolCalls)
    {
        var message = new Dictionary<string, object?>
        {
            ["role"] = "assistant",
            ["content"] = text.Length == 0 && (toolCalls.Count > 0 || refusal is not null) ? null : text,
            ["refusal"] = refusal,
        };
        if (toolCalls.Count > 0) message["tool_calls"] = toolCalls.Select(ToolCallJson).ToArray();
        return message;
    }

    public static object ToolCallJson(ToolCall call) => new { call.Id, Type = "function", Function = new { call.Name, Arguments = call.ArgumentsJson } };

    /// <summary>Log probabilities in OpenAI's shape: each token with its UTF-8 bytes and its alternatives.</summary>
    public static object? Logprobs(IReadOnlyList<TokenLogprob>? tokens) => tokens is null ? null : new
    {
        Content = tokens.Select(t => new
        {
            t.Token,
            t.Logprob,
            Bytes = Encoding.UTF8.GetBytes(t.Token).Select(b => (int)b).ToArray(),
            TopLogprobs = (t.Top ?? []).Select(a => new { a.Token, a.Logprob, Bytes = Encoding.UTF8.GetBytes(a.Token).Select(b => (int)b).ToArray() }).ToArray(),
        }).ToArray(),
        Refusal = (object?)null,
    };
}
