using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;
using Kyros.Perf.Silo.Auth;
using Microsoft.AspNetCore.Mvc;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>POST /v1/messages</c> in Anthropic's Messages format, so Anthropic's SDKs work by changing their base URL. The
/// <c>model</c> field is that of <see cref="ChatCompletionsEndpoint"/>; any model of the catalog answers, whatever its
/// provider. A field Kyros does not carry is refused (400 naming it) rather than dropped, so nothing is silently ignored.
/// </summary>
public static class MessagesEndpoint
{
    public const string Path = "/v1/messages";

    private static readonly HashSet<string> RequestFields =
    [
        "model", "max_tokens", "system", "messages", "tools", "tool_choice", "stop_sequences", "temperature", "top_p", "top_k",
        "metadata", "stream", "request_features",
    ];
    private static readonly HashSet<string> ToolFields = ["name", "description", "input_schema", "type"];
    private static readonly HashSet<string> ToolChoiceFields = ["type", "name", "disable_parallel_tool_use"];
    private static readonly HashSet<string> MetadataFields = ["user_id"];
    private static readonly HashSet<string> MessageFields = ["role", "content"];

    public static void MapMessages(this IEndpointRouteBuilder app) => app.MapPost(Path, CreateAsync).RequireScope(Scopes.Write)
        .WithSummary("Anthropic's Messages API: route, call the model, record");

    private static async Task CreateAsync(HttpContext context, ModelGateway gateway, ModelCatalog catalog, ResponseCache cache, TimeProvider time)
    {
        using var document = await JsonBody.ReadAsync(context.Request);
        var (read, stream, model) = Read(document.RootElement, catalog);
        var request = Auth.ModelScope.Restrict(context, read);
        await StreamedAnswer.RespondAsync(context, gateway, cache, time, request, stream ? new EventStream(context.Response, model) : null,
            result => WriteMessageAsync(context, result));
    }

    private static async Task WriteMessageAsync(HttpContext context, GenerateResult result)
    {
        ChatCompletionsEndpoint.SetHeaders(context.Response, result.Model, result.Decision.DecisionId, result.RequestId, result.Simulated);
        var content = new List<object>();
        if (result.Text.Length > 0) content.Add(new { Type = "text", result.Text });
        content.AddRange(result.ToolCalls.Select(ToolUse));
        await context.Response.WriteAsJsonAsync(new
        {
            Id = result.RequestId,
            Type = "message",
            Role = "assistant",
            Model = result.Model,
            Content = content,
            StopReason = StopReason(result.FinishReason),
            StopSequence = (string?)null,
            Usage = Usage(result.Usage),
            Kyros = ChatCompletionsEndpoint.Extension(result),
        }, KyrosJson.Options, context.RequestAborted);
    }

    private static (GenerateRequest Request, bool Stream, string Model) Read(JsonElement root, ModelCatalog catalog)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a Messages request object.", "body");
        JsonFields.RejectUnknown(root, "", RequestFields, "a Messages request that Kyros carries");
        var model = JsonFields.String(root, "", "model") ?? throw new ArgumentException("model is required: auto, kyros/<strategy> or a model id.", "model");
        var (strategy, only) = ChatCompletionsEndpoint.ResolveModel(model, catalog);
        var maxTokens = GatewayEndpoints.ReadMaxTokens(root, "max_tokens") ?? throw JsonFields.Missing("", "max_tokens");
        var turns = new List<ChatTurn>();
        if (SystemPrompt(root) is { } system) turns.Add(new ChatTurn("system", system));
        turns.AddRange(Messages(root));
        var request = new GenerateRequest
        {
            Messages = turns,
            Strategy = strategy,
            Model = only,
            MaxTokens = maxTokens,
            Temperature = JsonFields.Number(root, "", "temperature"),
            TopP = JsonFields.Number(root, "", "top_p"),
            TopK = JsonFields.Integer(root, "", "top_k") switch
            {
                null => null,
                >= 1 and <= int.MaxValue and var topK => (int)topK,
                _ => throw new ArgumentException("top_k must be a positive whole number.", "top_k"),
            },
            Stop = StopSequences(root),
            Tools = Tools(root),
            ToolChoice = ToolChoiceOf(root, out var parallel),
            ParallelToolCalls = parallel,
            User = Metadata(root),
            Features = RoutingEndpoints.ReadFeatures(root),
        };
        return (request, JsonFields.Bool(root, "", "stream") ?? false, model);
    }

    /// <summary><c>system</c>: a string, or text blocks (joined by blank lines).</summary>
    private static string? SystemPrompt(JsonElement root) => JsonFields.Field(root, "system") switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } text => text.GetString(),
        { ValueKind: JsonValueKind.Array } blocks => string.Join("\n\n", blocks.EnumerateArray().Select((b, i) => TextBlock(b, $"system[{i}]."))),
        _ => throw JsonFields.WrongType("", "system", "a string or a list of text blocks"),
    };

    private static string TextBlock(JsonElement block, string at)
    {
        if (block.ValueKind != JsonValueKind.Object || JsonFields.String(block, at, "type") != "text")
            throw new ArgumentException($"{at[..^1]} must be a text block ({{\"type\": \"text\", \"text\": …}}).", at[..^1]);
        JsonFields.RejectUnknown(block, at, TextBlockFields, "a text block that Kyros carries");
        return JsonFields.String(block, at, "text") ?? throw JsonFields.Missing(at, "text");
    }

    private static readonly HashSet<string> TextBlockFields = ["type", "text"];

    /// <summary>
    /// <c>messages</c>: user and assistant turns, their content a string or blocks. An assistant's <c>tool_use</c> blocks
    /// become its tool calls; each of a user's <c>tool_result</c> blocks becomes a <c>tool</c> turn, before the user's other content.
    /// </summary>
    private static List<ChatTurn> Messages(JsonElement root)
    {
        if (JsonFields.Field(root, "messages") is not { ValueKind: JsonValueKind.Array } messages)
            throw (JsonFields.Field(root, "messages") is null ? JsonFields.Missing("", "messages") : JsonFields.WrongType("", "messages", "an array of {role, content}"));
        var turns = new List<ChatTurn>();
        var i = 0;
        foreach (var message in messages.EnumerateArray())
        {
            var at = $"messages[{i++}].";
            if (message.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", at[..^1], "an object with role and content");
            JsonFields.RejectUnknown(message, at, MessageFields, "a message");
            var role = JsonFields.String(message, at, "role") ?? throw JsonFields.Missing(at, "role");
            // Newer SDKs may send the system prompt as a system message as well as the top-level system.
            if (role is not ("user" or "assistant" or "system")) throw new ArgumentException($"{at}role must be user, assistant or system.", at + "role");
            switch (JsonFields.Field(message, "content"))
            {
                case null: throw JsonFields.Missing(at, "content");
                case { ValueKind: JsonValueKind.String } text: turns.Add(new ChatTurn(role, text.GetString()!)); break;
                case { ValueKind: JsonValueKind.Array } blocks: turns.AddRange(Blocks(role, blocks, at + "content")); break;
                default: throw JsonFields.WrongType(at, "content", "a string or a list of content blocks");
            }
        }
        if (turns.Count == 0) throw new ArgumentException("messages must hold at least one message.", "messages");
        return turns;
    }

    private static IEnumerable<ChatTurn> Blocks(string role, JsonElement blocks, string at)
    {
        var parts = new List<ContentPart>();
        var calls = new List<ToolCall>();
        var results = new List<ChatTurn>();
        var j = 0;
        foreach (var block in blocks.EnumerateArray())
        {
            var here = $"{at}[{j++}].";
            if (block.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", here[..^1], "a content block object");
            var type = JsonFields.String(block, here, "type") ?? throw JsonFields.Missing(here, "type");
            switch (type)
            {
                case "text":
                    parts.Add(new ContentPart(ContentPart.TextType, TextBlock(block, here)));
                    break;
                case "image" when role == "user":
                    parts.Add(Image(block, here));
                    break;
                case "tool_use" when role == "assistant":
                    JsonFields.RejectUnknown(block, here, ToolUseFields, "a tool_use block");
                    var input = JsonFields.Field(block, "input") is { ValueKind: JsonValueKind.Object } args ? args.GetRawText()
                        : throw JsonFields.WrongType(here, "input", "an object");
                    calls.Add(new ToolCall(JsonFields.String(block, here, "id") ?? throw JsonFields.Missing(here, "id"),
                        JsonFields.String(block, here, "name") ?? throw JsonFields.Missing(here, "name"), input));
                    break;
                case "tool_result" when role == "user":
                    results.Add(ToolResult(block, here));
                    break;
                default:
                    throw new ArgumentException($"{here}type '{type}' is not a block Kyros carries in a {role} message " +
                        $"({(role == "user" ? "text, image, tool_result" : "text, tool_use")}).", here + "type");
            }
        }
        foreach (var result in results) yield return result;
        if (parts.Count == 0 && calls.Count == 0) yield break;
        var text = string.Concat(parts.Where(p => p.Type == ContentPart.TextType).Select(p => p.Text));
        yield return new ChatTurn(role, text)
        {
            // Parts only when there is more than text, as ChatTurn keeps them.
            Parts = parts.Any(p => p.Type != ContentPart.TextType) ? parts : null,
            ToolCalls = calls.Count > 0 ? calls : null,
        };
    }

    private static readonly HashSet<string> ToolUseFields = ["type", "id", "name", "input"];
    private static readonly HashSet<string> ToolResultFields = ["type", "tool_use_id", "content", "is_error"];
    private static readonly HashSet<string> ImageFields = ["type", "source"];

    /// <summary>An image block: base64 data (as a <c>data:</c> URL) or an http(s) URL.</summary>
    private static ContentPart Image(JsonElement block, string at)
    {
        JsonFields.RejectUnknown(block, at, ImageFields, "an image block");
        var source = JsonFields.Field(block, "source") is { ValueKind: JsonValueKind.Object } s ? s : throw JsonFields.WrongType(at, "source", "an object");
        var here = at + "source.";
        switch (JsonFields.String(source, here, "type"))
        {
            case "base64":
                var media = JsonFields.String(source, here, "media_type") ?? throw JsonFields.Missing(here, "media_type");
                var data = JsonFields.String(source, here, "data") ?? throw JsonFields.Missing(here, "data");
                return new ContentPart(ContentPart.ImageType, Url: $"data:{media};base64,{data}") { MediaType = media };
            case "url":
                var url = JsonFields.String(source, here, "url") ?? throw JsonFields.Missing(here, "url");
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                    throw new ArgumentException($"{here}url must be an http(s) URL.", here + "url");
                return new ContentPart(ContentPart.ImageType, Url: url);
            default:
                throw new ArgumentException($"{here}type must be base64 or url.", here + "type");
        }
    }

    /// <summary>A tool_result block: the <c>tool</c> turn answering that call, its content a string or text blocks.</summary>
    private static ChatTurn ToolResult(JsonElement block, string at)
    {
        JsonFields.RejectUnknown(block, at, ToolResultFields, "a tool_result block");
        var id = JsonFields.String(block, at, "tool_use_id") ?? throw JsonFields.Missing(at, "tool_use_id");
        var content = JsonFields.Field(block, "content") switch
        {
            null => "",
            { ValueKind: JsonValueKind.String } text => text.GetString()!,
            { ValueKind: JsonValueKind.Array } blocks => string.Concat(blocks.EnumerateArray().Select((b, k) => TextBlock(b, $"{at}content[{k}]."))),
            _ => throw JsonFields.WrongType(at, "content", "a string or a list of text blocks"),
        };
        return new ChatTurn("tool", content) { ToolCallId = id, IsError = JsonFields.Bool(block, at, "is_error") ?? false };
    }

    private static IReadOnlyList<string>? StopSequences(JsonElement root) => JsonFields.Field(root, "stop_sequences") switch
    {
        null => null,
        { ValueKind: JsonValueKind.Array } list => [.. list.EnumerateArray().Select((s, i) => s.ValueKind == JsonValueKind.String
            ? s.GetString()! : throw JsonFields.WrongType("", $"stop_sequences[{i}]", "a string"))],
        _ => throw JsonFields.WrongType("", "stop_sequences", "a list of strings"),
    };

    /// <summary><c>tools</c>: client tools (name, description, input_schema); Anthropic's server tools are not carried.</summary>
    private static IReadOnlyList<ToolDefinition>? Tools(JsonElement root)
    {
        if (JsonFields.Field(root, "tools") is not { } tools) return null;
        if (tools.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType("", "tools", "a list of tools");
        return [.. tools.EnumerateArray().Select((tool, i) =>
        {
            var at = $"tools[{i}].";
            if (tool.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", at[..^1], "a tool object");
            JsonFields.RejectUnknown(tool, at, ToolFields, "a tool that Kyros carries");
            if (JsonFields.String(tool, at, "type") is { } type && type != "custom")
                throw new ArgumentException($"{at}type '{type}' is a server tool; Kyros carries client tools (custom) only.", at + "type");
            var schema = JsonFields.Field(tool, "input_schema") is { ValueKind: JsonValueKind.Object } s ? s.GetRawText()
                : throw (JsonFields.Field(tool, "input_schema") is null ? JsonFields.Missing(at, "input_schema") : JsonFields.WrongType(at, "input_schema", "a JSON schema object"));
            return new ToolDefinition(JsonFields.String(tool, at, "name") ?? throw JsonFields.Missing(at, "name"), JsonFields.String(tool, at, "description"), schema);
        })];
    }

    /// <summary><c>tool_choice</c>: auto, any (some tool), tool (the one named), none; <c>disable_parallel_tool_use</c> as parallel tool calls off.</summary>
    private static ToolChoice? ToolChoiceOf(JsonElement root, out bool? parallel)
    {
        parallel = null;
        if (JsonFields.Field(root, "tool_choice") is not { } choice) return null;
        if (choice.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", "tool_choice", "an object with type");
        const string at = "tool_choice.";
        JsonFields.RejectUnknown(choice, at, ToolChoiceFields, "a tool choice");
        parallel = JsonFields.Bool(choice, at, "disable_parallel_tool_use") is { } disable ? !disable : null;
        return JsonFields.String(choice, at, "type") switch
        {
            "auto" => new ToolChoice(ToolChoice.Auto),
            "any" => new ToolChoice(ToolChoice.Required),
            "none" => new ToolChoice(ToolChoice.None),
            "tool" => new ToolChoice(ToolChoice.Named, JsonFields.String(choice, at, "name") ?? throw JsonFields.Missing(at, "name")),
            null => throw JsonFields.Missing(at, "type"),
            var other => throw new ArgumentException($"{at}type '{other}' is not auto, any, tool or none.", at + "type"),
        };
    }

    /// <summary><c>metadata</c>: only <c>user_id</c>, which is the request's end user.</summary>
    private static string? Metadata(JsonElement root)
    {
        if (JsonFields.Field(root, "metadata") is not { } metadata) return null;
        if (metadata.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", "metadata", "an object");
        JsonFields.RejectUnknown(metadata, "metadata.", MetadataFields, "metadata");
        return JsonFields.String(metadata, "metadata.", "user_id");
    }

    /// <summary>Our finish reason as Anthropic's stop_reason.</summary>
    private static string StopReason(string finish) => finish switch
    {
        "length" => "max_tokens",
        "tool_calls" => "tool_use",
        "stop_sequence" => "stop_sequence",
        "content_filter" => "refusal",
        _ => "end_turn",
    };

    private static object Usage(TokenUsage usage) => new { InputTokens = usage.InputTokens, OutputTokens = usage.OutputTokens };

    private static object ToolUse(ToolCall call) => new { Type = "tool_use", call.Id, call.Name, Input = Input(call.ArgumentsJson) };

    /// <summary>A tool call's arguments as the object Anthropic's input is; arguments that are not a JSON object come as {}.</summary>
    private static JsonElement Input(string arguments)
    {
        try
        {
            using var parsed = JsonDocument.Parse(arguments);
            if (parsed.RootElement.ValueKind == JsonValueKind.Object) return parsed.RootElement.Clone();
        }
        catch (JsonException)
        {
            // A model's malformed arguments: the client gets an empty input rather than a broken message.
        }
        return JsonDocument.Parse("{}").RootElement.Clone();
    }

    /// <summary>Anthropic's error object in the problem, so its SDKs show our message: <c>{"type": "error", "error": {type, message}}</c>.</summary>
    public static void AddAnthropicError(ProblemDetails problem, bool unavailable)
    {
        problem.Type = "error";
        problem.Extensions["error"] = new Dictionary<string, object?>
        {
            ["type"] = unavailable ? "overloaded_error" : ErrorType(problem.Status ?? 500),
            ["message"] = problem.Detail,
        };
    }

    private static string ErrorType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        504 => "timeout_error",
        >= 500 => "api_error",
        _ => "invalid_request_error",
    };

    /// <summary>
    /// Anthropic's named server-sent events: message_start, ping, then per block content_block_start, its deltas and
    /// content_block_stop (text as text_delta, a tool call as input_json_delta), then message_delta and message_stop.
    /// </summary>
    private sealed class EventStream(HttpResponse response, string requestedModel) : IStreamedAnswer
    {
        private string _id = "";
        private string _model = requestedModel;
        private int _blocks;
        private bool _textOpen;

        public bool Started { get; private set; }

        public async ValueTask OnStartAsync(string model, RoutingDecision decision, string requestId, bool simulated)
        {
            (_id, _model, Started) = (requestId, model, true);
            ChatCompletionsEndpoint.SetHeaders(response, model, decision.DecisionId, requestId, simulated);
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            // The tokens are counted when the answer is done: message_delta carries them (cumulative, as Anthropic's do).
            await WriteAsync("message_start", new
            {
                Type = "message_start",
                Message = new
                {
                    Id = _id, Type = "message", Role = "assistant", Model = _model, Content = Array.Empty<object>(),
                    StopReason = (string?)null, StopSequence = (string?)null, Usage = new { InputTokens = 0, OutputTokens = 0 },
                },
            });
            await WriteAsync("ping", new { Type = "ping" });
        }

        public async ValueTask OnTextAsync(string text, IReadOnlyList<TokenLogprob>? logprobs)
        {
            if (!_textOpen)
            {
                await WriteAsync("content_block_start", new { Type = "content_block_start", Index = _blocks, ContentBlock = new { Type = "text", Text = "" } });
                _textOpen = true;
            }
            await WriteAsync("content_block_delta", new { Type = "content_block_delta", Index = _blocks, Delta = new { Type = "text_delta", Text = text } });
        }

        // Anthropic has no refusal block: a refusal is the answer's text.
        public ValueTask OnRefusalAsync(string refusal) => OnTextAsync(refusal, null);

        public async ValueTask OnToolCallAsync(int index, ToolCall call)
        {
            await CloseTextAsync();
            await WriteAsync("content_block_start", new
            {
                Type = "content_block_start", Index = _blocks,
                ContentBlock = new { Type = "tool_use", call.Id, call.Name, Input = new { } },
            });
            // The call arrives whole: its input in one delta, the JSON text as Anthropic streams it.
            await WriteAsync("content_block_delta", new
            {
                Type = "content_block_delta", Index = _blocks,
                Delta = new { Type = "input_json_delta", PartialJson = Input(call.ArgumentsJson).GetRawText() },
            });
            await WriteAsync("content_block_stop", new { Type = "content_block_stop", Index = _blocks++ });
        }

        public async Task FinishAsync(GenerateResult result)
        {
            // An answer without text or tool calls still gets its opening events and headers.
            if (!Started) await OnStartAsync(result.Model, result.Decision, result.RequestId, result.Simulated);
            await CloseTextAsync();
            await WriteAsync("message_delta", new
            {
                Type = "message_delta",
                Delta = new { StopReason = StopReason(result.FinishReason), StopSequence = (string?)null },
                Usage = Usage(result.Usage),
            });
            await WriteAsync("message_stop", new { Type = "message_stop" });
        }

        public Task FailAsync(string message) =>
            WriteAsync("error", new { Type = "error", Error = new { Type = "api_error", Message = message } }).AsTask();

        private async ValueTask CloseTextAsync()
        {
            if (!_textOpen) return;
            await WriteAsync("content_block_stop", new { Type = "content_block_stop", Index = _blocks++ });
            _textOpen = false;
        }

        private async ValueTask WriteAsync(string name, object payload)
        {
            await response.WriteAsync($"event: {name}\ndata: ");
            await JsonSerializer.SerializeAsync(response.Body, payload, KyrosJson.Options);
            await response.WriteAsync("\n\n");
            await response.Body.FlushAsync();
        }
    }
}
