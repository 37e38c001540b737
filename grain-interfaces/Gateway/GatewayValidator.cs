namespace Kyros.Perf.Gateway;

/// <summary>
/// The rules for a generation that need no catalog, shared by the SDK and the silo. Errors are
/// <see cref="ArgumentException"/>s naming the field as JSON spells it; the catalog's own checks (model, max_tokens
/// against the model's limit) happen in the gateway.
/// </summary>
public static class GatewayValidator
{
    public static readonly IReadOnlySet<string> Roles = new HashSet<string>(StringComparer.Ordinal) { "system", "user", "assistant" };
    public const int MaxMessages = 1_000;
    public const int MaxTokensLimit = 1_000_000;

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
            for (var i = 0; i < request.Messages.Count; i++)
            {
                var m = request.Messages[i];
                if (m is null) throw new ArgumentException($"messages[{i}] must be an object with role and content.", $"messages[{i}]");
                if (m.Role is null || !Roles.Contains(m.Role))
                    throw new ArgumentException($"messages[{i}].role '{m.Role}' is not one of system, user, assistant.", $"messages[{i}].role");
                if (m.Content is null) throw new ArgumentException($"messages[{i}].content is required.", $"messages[{i}].content");
            }
            if (request.Messages.All(m => string.IsNullOrWhiteSpace(m.Content)))
                throw new ArgumentException("messages are all empty: at least one needs content.", "messages");
        }
        MaxTokens(request.MaxTokens, "max_tokens");
        if (request.Temperature is { } t && !(t >= 0 && t <= 2)) throw new ArgumentException($"temperature must be within 0..2; got {t}.", "temperature");
        if (request.Model is { } model && string.IsNullOrWhiteSpace(model)) throw new ArgumentException("model must not be empty.", "model");
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
