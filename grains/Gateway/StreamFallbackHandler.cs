using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Some OpenAI-compatible servers ignore <c>stream: true</c> and answer with one plain JSON completion. The gateway
/// always streams (to time the first token), and the OpenAI client reads such an answer as a broken stream: this
/// handler turns it into the stream it stands for (the content in one chunk, the finish reason, the usage, [DONE]), so
/// the answer counts as the success it is. Its time to first token is then the whole answer's.
/// </summary>
public sealed class StreamFallbackHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode || response.Content.Headers.ContentType?.MediaType != "application/json"
            || request.RequestUri?.AbsolutePath.EndsWith("/chat/completions", StringComparison.Ordinal) != true
            || !await AskedToStreamAsync(request, cancellationToken))
            return response;
        var completion = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject;
        // Not a completion: it goes on as it came (reading it buffered it), for the client to judge.
        if (completion?["object"]?.GetValue<string>() != "chat.completion" || completion["choices"] is not JsonArray choices) return response;
        var stream = new StringBuilder();
        JsonObject Chunk(JsonArray chunkChoices, JsonNode? usage = null)
        {
            var chunk = new JsonObject
            {
                ["id"] = completion["id"]?.DeepClone(), ["object"] = "chat.completion.chunk", ["created"] = completion["created"]?.DeepClone(),
                ["model"] = completion["model"]?.DeepClone(), ["choices"] = chunkChoices,
            };
            if (usage is not null) chunk["usage"] = usage.DeepClone();
            return chunk;
        }
        foreach (var choice in choices.OfType<JsonObject>())
        {
            var message = choice["message"] as JsonObject;
            var delta = new JsonObject { ["role"] = message?["role"]?.DeepClone() ?? "assistant", ["content"] = message?["content"]?.DeepClone() };
            stream.Append("data: ").Append(Chunk([new JsonObject { ["index"] = choice["index"]?.DeepClone() ?? 0, ["delta"] = delta, ["finish_reason"] = null }]).ToJsonString()).Append("\n\n");
            stream.Append("data: ").Append(Chunk([new JsonObject { ["index"] = choice["index"]?.DeepClone() ?? 0, ["delta"] = new JsonObject(), ["finish_reason"] = choice["finish_reason"]?.DeepClone() ?? "stop" }]).ToJsonString()).Append("\n\n");
        }
        if (completion["usage"] is { } usage) stream.Append("data: ").Append(Chunk([], usage).ToJsonString()).Append("\n\n");
        stream.Append("data: [DONE]\n\n");
        var converted = new HttpResponseMessage(response.StatusCode) { RequestMessage = request, Version = response.Version };
        foreach (var header in response.Headers) converted.Headers.TryAddWithoutValidation(header.Key, header.Value);
        converted.Content = new StringContent(stream.ToString(), Encoding.UTF8);
        converted.Content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        response.Dispose();
        return converted;
    }

    /// <summary>Whether the request asked for a stream: its body is read from a buffer, so the send above was not disturbed.</summary>
    private static async Task<bool> AskedToStreamAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is null) return false;
        await request.Content.LoadIntoBufferAsync(cancellationToken);
        using var body = JsonDocument.Parse(await request.Content.ReadAsStreamAsync(cancellationToken));
        return body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True;
    }
}
