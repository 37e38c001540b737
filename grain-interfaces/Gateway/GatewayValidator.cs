namespace Kyros.Perf.Gateway;

/// <summary>
/// The rules for a generation that need no catalog, shared by the SDK and the silo. Errors are
/// <see cref="ArgumentException"/>s naming the field as JSON spells it; the catalog's own checks (model, max_tokens
/// against the model's limit) happen in the gateway.
/// </summary>
public static class GatewayValidator
{
    public static readonly IReadOnlySet<string> Roles = new HashSet<string>(StringComparer.Ordinal) { "system", "user", "assistant", "tool" };
    public const int MaxMessages = 1_000;
    public const int MaxTokensLimit = 1_000_000;
    public const int MaxTools = 128;
    public const int MaxChoices = 16;
    public const int MaxStops = 16;
    public const int MaxTopLogprobs = 20;
    public const int MaxMetadata = 16;
    private static readonly string[] ToolModes = [ToolChoice.Auto, ToolChoice.None, ToolChoice.Required, ToolChoice.Named];
    private static readonly string[] Formats = [ResponseFormat.Text, ResponseFormat.JsonObject, ResponseFormat.JsonSchema];

    /// <summary>A function's name as OpenAI and Anthropic both take it: 1-64 letters, digits, '_' or '-'.</summary>
    public static bool IsToolName(string? name) => name is { Length: >= 1 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-');

    /// <summary>Whether <paramref name="json"/> is one JSON object (a schema, a call's arguments).</summary>
    public static bool IsJsonObject(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return false;
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            return document.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    /// <summary>An output budget read as a whole number (JSON, a command line), as the request's int, or the error naming <paramref name="field"/>.</summary>
    public static int? MaxTokens(long? value, string field) => value switch
    {
        null => null,
        < 1 or > MaxTokensLimit => throw new ArgumentException($"{field} must be within 1..{MaxTokensLimit}; got {value}.", field),
        _ => (int)value,
    };

    public static void Validate(GenerateRequest? request)
    {
        if (request is null) throw new ArgumentException("The request is required.", "body");
        var hasPrompt = !string.IsNullOrWhiteSpace(request.Prompt);
        var hasMessages = request.Messages is { Count: > 0 };
        if (hasPrompt && hasMessages) throw new ArgumentException("prompt and messages cannot both be given.", "prompt");
        if (!hasPrompt && !hasMessages)
            throw new ArgumentException(request.Messages is null ? "prompt is required (or messages), and must not be empty." : "messages must hold at least one message.",
                request.Messages is null ? "prompt" : "messages");
        if (hasMessages)
        {
            if (request.Messages!.Count > MaxMessages) throw new ArgumentException($"messages holds {request.Messages.Count} messages; at most {MaxMessages}.", "messages");
            for (var i = 0; i < request.Messages.Count; i++) ValidateMessage(request.Messages[i], $"messages[{i}]");
            if (request.Messages.All(m => string.IsNullOrWhiteSpace(m.Content) && m.Parts is not { Count: > 0 } && m.ToolCalls is not { Count: > 0 }))
                throw new ArgumentException("messages are all empty: at least one needs content.", "messages");
        }
        MaxTokens(request.MaxTokens, "max_tokens");
        if (request.Temperature is { } t && !(t >= 0 && t <= 2)) throw new ArgumentException($"temperature must be within 0..2; got {t}.", "temperature");
        if (request.Model is { } model && string.IsNullOrWhiteSpace(model)) throw new ArgumentException("model must not be empty.", "model");
        ValidateOptions(request);
    }

    private static void ValidateMessage(ChatTurn? m, string at)
    {
        if (m is null) throw new ArgumentException($"{at} must be an object with role and content.", at);
        if (m.Role is null || !Roles.Contains(m.Role))
            throw new ArgumentException($"{at}.role '{m.Role}' is not one of system, user, assistant, tool.", $"{at}.role");
        if (m.Content is null) throw new ArgumentException($"{at}.content is required.", $"{at}.content");
        if (m.Role == "tool" && string.IsNullOrWhiteSpace(m.ToolCallId))
            throw new ArgumentException($"{at}.tool_call_id is required: a tool message answers one tool call.", $"{at}.tool_call_id");
        if (m.Role != "tool" && m.ToolCallId is not null) throw new ArgumentException($"{at}.tool_call_id belongs to tool messages only.", $"{at}.tool_call_id");
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            if (m.Role != "assistant") throw new ArgumentException($"{at}.tool_calls belong to assistant messages only.", $"{at}.tool_calls");
            for (var j = 0; j < calls.Count; j++)
            {
                var call = calls[j];
                if (call is null || string.IsNullOrWhiteSpace(call.Id)) throw new ArgumentException($"{at}.tool_calls[{j}].id is required.", $"{at}.tool_calls[{j}].id");
                if (!IsToolName(call.Name))
                    throw new ArgumentException($"{at}.tool_calls[{j}].function.name must be 1-64 letters, digits, '_' or '-'.", $"{at}.tool_calls[{j}].function.name");
                if (!IsJsonObject(call.ArgumentsJson))
                    throw new ArgumentException($"{at}.tool_calls[{j}].function.arguments must be a JSON object, as text.", $"{at}.tool_calls[{j}].function.arguments");
            }
        }
        if (m.Parts is { } parts)
            for (var j = 0; j < parts.Count; j++)
            {
                var part = parts[j];
                var where = $"{at}.content[{j}]";
                switch (part?.Type)
                {
                    case ContentPart.TextType when part.Text is not null:
                        break;
                    case ContentPart.ImageType when IsImageUrl(part.Url):
                        if (m.Role is not ("user" or "system"))
                            throw new ArgumentException($"{where} is an image; images go in user messages.", where);
                        if (part.Detail is not (null or "auto" or "low" or "high"))
                            throw new ArgumentException($"{where}.image_url.detail must be auto, low or high.", $"{where}.image_url.detail");
                        break;
                    case ContentPart.ImageType:
                        throw new ArgumentException($"{where}.image_url.url must be an http(s) URL or a data:image/...;base64, URL.", $"{where}.image_url.url");
                    case ContentPart.AudioType when part.MediaType is "audio/wav" or "audio/mpeg" && IsBase64(part.Data):
                        break;
                    case ContentPart.AudioType:
                        throw new ArgumentException($"{where}.input_audio needs base64 data and a format of wav or mp3.", $"{where}.input_audio");
                    default:
                        throw new ArgumentException($"{where} must be a text, image_url or input_audio part.", where);
                }
            }
    }

    private static void ValidateOptions(GenerateRequest request)
    {
        if (request.Tools is { } tools)
        {
            if (tools.Count > MaxTools) throw new ArgumentException($"tools holds {tools.Count} tools; at most {MaxTools}.", "tools");
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < tools.Count; i++)
            {
                var tool = tools[i];
                if (tool is null || !IsToolName(tool.Name))
                    throw new ArgumentException($"tools[{i}].function.name must be 1-64 letters, digits, '_' or '-'.", $"tools[{i}].function.name");
                if (!names.Add(tool.Name)) throw new ArgumentException($"tools[{i}].function.name '{tool.Name}' is given twice.", $"tools[{i}].function.name");
                if (!IsJsonObject(tool.ParametersJson))
                    throw new ArgumentException($"tools[{i}].function.parameters must be a JSON schema object.", $"tools[{i}].function.parameters");
                if (tool.Description is { Length: > 16_384 }) throw new ArgumentException($"tools[{i}].function.description is longer than 16384 characters.", $"tools[{i}].function.description");
            }
        }
        if (request.ToolChoice is { } choice)
        {
            if (!ToolModes.Contains(choice.Mode)) throw new ArgumentException($"tool_choice '{choice.Mode}' is not one of auto, none, required or a function.", "tool_choice");
            if (choice.Mode == ToolChoice.Named && (choice.Function is null || request.Tools?.Any(t => t?.Name == choice.Function) != true))
                throw new ArgumentException($"tool_choice names function '{choice.Function}', which is not in tools.", "tool_choice");
            if (choice.Mode is ToolChoice.Required or ToolChoice.Named && request.Tools is not { Count: > 0 })
                throw new ArgumentException("tool_choice requires a tool call, but tools is empty.", "tool_choice");
        }
        if (request.ParallelToolCalls is not null && request.Tools is not { Count: > 0 })
            throw new ArgumentException("parallel_tool_calls is only allowed with tools.", "parallel_tool_calls");
        if (request.ResponseFormat is { } format)
        {
            if (!Formats.Contains(format.Type)) throw new ArgumentException($"response_format.type '{format.Type}' is not one of text, json_object, json_schema.", "response_format.type");
            if (format.Type == ResponseFormat.JsonSchema)
            {
                if (!IsToolName(format.Name)) throw new ArgumentException("response_format.json_schema.name must be 1-64 letters, digits, '_' or '-'.", "response_format.json_schema.name");
                if (!IsJsonObject(format.SchemaJson)) throw new ArgumentException("response_format.json_schema.schema must be a JSON schema object.", "response_format.json_schema.schema");
            }
        }
        if (request.Choices is < 1 or > MaxChoices) throw new ArgumentException($"n must be within 1..{MaxChoices}; got {request.Choices}.", "n");
        if (request.Stop is { } stop)
        {
            if (stop.Count > MaxStops) throw new ArgumentException($"stop holds {stop.Count} sequences; at most {MaxStops}.", "stop");
            if (stop.Any(string.IsNullOrEmpty)) throw new ArgumentException("stop sequences must not be empty.", "stop");
        }
        if (request.TopP is { } p && !(p >= 0 && p <= 1)) throw new ArgumentException($"top_p must be within 0..1; got {p}.", "top_p");
        if (request.PresencePenalty is { } pp && !(pp >= -2 && pp <= 2)) throw new ArgumentException($"presence_penalty must be within -2..2; got {pp}.", "presence_penalty");
        if (request.FrequencyPenalty is { } fp && !(fp >= -2 && fp <= 2)) throw new ArgumentException($"frequency_penalty must be within -2..2; got {fp}.", "frequency_penalty");
        if (request.TopLogprobs is { } top)
        {
            if (top is < 0 or > MaxTopLogprobs) throw new ArgumentException($"top_logprobs must be within 0..{MaxTopLogprobs}; got {top}.", "top_logprobs");
            if (!request.Logprobs) throw new ArgumentException("top_logprobs requires logprobs: true.", "top_logprobs");
        }
        if (request.TopK is < 1 or > 1_000) throw new ArgumentException($"top_k must be within 1..1000; got {request.TopK}.", "top_k");
        if (request.User is { Length: 0 or > 256 }) throw new ArgumentException("user must be 1-256 characters.", "user");
        if (request.Metadata is { } metadata)
        {
            if (metadata.Count > MaxMetadata) throw new ArgumentException($"metadata holds {metadata.Count} keys; at most {MaxMetadata}.", "metadata");
            foreach (var (key, value) in metadata)
                if (key is not { Length: >= 1 and <= 64 } || value is not { Length: <= 512 })
                    throw new ArgumentException($"metadata keys are 1-64 characters and values strings of at most 512; '{key}' is not.", "metadata");
        }
    }

    /// <summary>The needs a provider must meet for <paramref name="request"/>: what routing checks beside the model's capabilities.</summary>
    public static ProviderNeeds NeedsOf(GenerateRequest request)
    {
        var needs = ProviderNeeds.None;
        if (request.Conversation.Any(m => m.Parts?.Any(p => p.Type == ContentPart.AudioType) == true)) needs |= ProviderNeeds.InputAudio;
        if (request.Logprobs) needs |= ProviderNeeds.Logprobs;
        if (request.Metadata is { Count: > 0 }) needs |= ProviderNeeds.Metadata;
        if (request.Seed is not null) needs |= ProviderNeeds.Seed;
        if (request.PresencePenalty is not null || request.FrequencyPenalty is not null) needs |= ProviderNeeds.Penalties;
        if (request.ToolChoice is { Mode: not ToolChoice.Auto } || request.ParallelToolCalls is not null) needs |= ProviderNeeds.ToolControl;
        if (request.User is not null) needs |= ProviderNeeds.User;
        if (request.Conversation.Any(m => m.Parts?.Any(p => p.Type == ContentPart.ImageType && p.Url?.StartsWith("data:", StringComparison.OrdinalIgnoreCase) == false) == true))
            needs |= ProviderNeeds.ImageUrl;
        return needs;
    }

    /// <summary>Whether any message holds an image (then only models with vision are candidates).</summary>
    public static bool HasImages(GenerateRequest request) => request.Conversation.Any(m => m.Parts?.Any(p => p.Type == ContentPart.ImageType) == true);

    private static bool IsImageUrl(string? url) =>
        url is not null && (url.StartsWith("data:image/", StringComparison.OrdinalIgnoreCase) && url.Contains(";base64,", StringComparison.Ordinal)
                            || Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https");

    private static bool IsBase64(string? data)
    {
        if (string.IsNullOrEmpty(data)) return false;
        var buffer = new byte[data.Length];
        return Convert.TryFromBase64String(data, buffer, out _);
    }

    public static void ValidateFeedback(string? requestId, double score)
    {
        if (string.IsNullOrWhiteSpace(requestId) || requestId.Length > 512) throw new ArgumentException("request_id is required (1-512 characters).", "request_id");
        if (!(score >= 0 && score <= 1)) throw new ArgumentException($"score must be within 0..1; got {score}.", "score");
    }
}

/// <summary>
/// Request ids the gateway hands out: <c>gen.&lt;model, base64url&gt;.&lt;unix ms, hex&gt;.&lt;random&gt;</c>. They carry the model
/// that answered and when, so feedback finds its way to that model's statistics from any silo without a lookup table.
/// </summary>
public static class RequestIds
{
    public static string Create(string model, DateTimeOffset at) => Format(ModelToken(model), at.ToUnixTimeMilliseconds(), Guid.NewGuid().ToString("N"));

    /// <summary>The gateway's request id from its parts: the model's token, the start in Unix milliseconds, 32 lowercase hex digits.</summary>
    public static string Format(string modelToken, long atMs, string hex32) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"gen.{modelToken}.{atMs:x}.{hex32}");

    /// <summary>The model as a request id carries it (URL-safe base64 of its UTF-8).</summary>
    public static string ModelToken(string model) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(model)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static bool TryParse(string requestId, out string model, out DateTimeOffset at)
    {
        (model, at) = ("", default);
        var parts = requestId.Split('.');
        if (parts.Length != 4 || parts[0] != "gen" || parts[3].Length != 32) return false;
        try
        {
            var b64 = parts[1].Replace('-', '+').Replace('_', '/');
            model = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=')));
            at = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture));
            return model.Length > 0;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }
}
