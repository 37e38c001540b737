using System.Runtime.CompilerServices;
using System.Text.Json;
using Kyros.Perf.Common;
using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Gateway;

/// <summary>
/// The <c>simulated</c> provider: a model that answers with filler text of the requested length at the pace and error
/// rate its <see cref="SimulationProfile"/> gives. For demos and tests; its text starts with <c>[simulated]</c> and the
/// gateway marks its results as simulated. A simulated timeout fails after the time to first token, rather than
/// holding the request for the model's whole timeout. Given tools, a share of its answers
/// (<see cref="SimulationProfile.ToolCallShare"/>, or all when a tool is required) call the first tool (or the one
/// required) with arguments that fit its schema, unless the conversation ends with a tool's result; given a JSON
/// response format, it answers JSON that fits the schema; images count as input tokens; with logprobs asked for, each
/// token has one.
/// </summary>
public sealed class SimulatedChatClient(ModelDescriptor model, Random random, double timeScale, TimeProvider time) : IChatClient
{
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        SimulatedDraw draw;
        lock (random) draw = SimulatedModel.Draw(model.Simulation, random);
        var conversation = messages as IList<ChatMessage> ?? [.. messages];
        var input = conversation.Sum(m => PromptTokens.Count(m.Text, model.Tokenizer)
                                          + m.Contents.Count(c => c is DataContent { MediaType: var t } && t.StartsWith("image/", StringComparison.Ordinal) || c is UriContent) * ModelGateway.ImageTokens);
        double toolDraw, logprobDraw;
        lock (random) (toolDraw, logprobDraw) = (random.NextDouble(), random.NextDouble());
        await WaitAsync(draw.TimeToFirstToken, cancellationToken);
        switch (draw.ErrorKind)
        {
            case "timeout":
                throw new ProviderException($"{model.Id} (simulated) timed out.", 408, "timeout");
            case "rate_limit":
                throw new ProviderException($"{model.Id} (simulated) is rate limited.", 429, "rate_limit", Scale(TimeSpan.FromSeconds(model.Simulation.RetryAfterSeconds)));
            case "server_error":
                throw new ProviderException($"{model.Id} (simulated) failed with a server error.", 500, "server_error");
        }
        if (ToolToCall(conversation, options, toolDraw) is { } tool)
        {
            var arguments = SchemaExample.For(tool.JsonSchema)?.ToJsonString() ?? "{}";
            var argumentTokens = PromptTokens.Count(tool.Name + arguments, model.Tokenizer);
            await WaitAsync(draw.PerToken * argumentTokens, cancellationToken);
            using var parsed = JsonDocument.Parse(arguments);
            var call = new FunctionCallContent($"call_sim_{StableStringHash.Of(tool.Name + arguments + toolDraw):x8}", tool.Name,
                parsed.RootElement.ValueKind == JsonValueKind.Object ? parsed.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone()) : []);
            yield return new ChatResponseUpdate { Role = ChatRole.Assistant, ModelId = model.Id, Contents = [call] };
            yield return Finish(ChatFinishReason.ToolCalls, input, argumentTokens);
            yield break;
        }
        var logprobs = options?.AdditionalProperties?.TryGetValue(ChatRequestMapping.LogprobsProperty, out var top) == true && top is int alternatives ? alternatives : -1;
        if (options?.ResponseFormat is ChatResponseFormatJson json)
        {
            // Structured output: the whole JSON answer at once, fitting the schema when one was given.
            var answer = json.Schema is { } schema ? SchemaExample.For(schema)?.ToJsonString() ?? "{}" : "{\"simulated\":true}";
            var answerTokens = PromptTokens.Count(answer, model.Tokenizer);
            await WaitAsync(draw.PerToken * answerTokens, cancellationToken);
            yield return new ChatResponseUpdate(ChatRole.Assistant, answer) { ModelId = model.Id };
            yield return Finish(ChatFinishReason.Stop, input, answerTokens);
            yield break;
        }
        var tokens = options?.MaxOutputTokens ?? 256;
        for (var i = 0; i < tokens; i++)
        {
            if (i > 0) await WaitAsync(draw.PerToken, cancellationToken);
            var word = SimulatedModel.Word(i);
            var update = new ChatResponseUpdate(ChatRole.Assistant, word) { ModelId = model.Id };
            if (logprobs >= 0)
            {
                // Made up, like the text: a log probability per word, and as many alternatives as asked for.
                var logprob = -0.05 - (i + logprobDraw) % 7 * 0.1;
                update.AdditionalProperties = new() { [ResponseReading.LogprobsProperty] = (IReadOnlyList<TokenLogprob>)
                    [new TokenLogprob(word, logprob, [.. Enumerable.Range(0, logprobs).Select(k => new TokenLogprob(SimulatedModel.Word(i + k + 1), logprob - 1 - k))])] };
            }
            yield return update;
        }
        yield return Finish(ChatFinishReason.Length, input, tokens);
    }

    private ChatResponseUpdate Finish(ChatFinishReason reason, long input, long output) => new()
    {
        Role = ChatRole.Assistant,
        ModelId = model.Id,
        FinishReason = reason,
        Contents = [new UsageContent(new UsageDetails { InputTokenCount = input, OutputTokenCount = output, TotalTokenCount = input + output })],
    };

    /// <summary>The tool this answer calls, or null for a text answer.</summary>
    private AIFunctionDeclaration? ToolToCall(IList<ChatMessage> conversation, ChatOptions? options, double draw)
    {
        var tools = options?.Tools?.OfType<AIFunctionDeclaration>().ToList();
        if (tools is not { Count: > 0 } || options!.ToolMode is NoneChatToolMode) return null;
        if (options.ToolMode is RequiredChatToolMode { RequiredFunctionName: { } name }) return tools.FirstOrDefault(t => t.Name == name);
        if (options.ToolMode is RequiredChatToolMode) return tools[0];
        // A tool's result has just come back: answer in words, as a model does, rather than call again.
        if (conversation.Count > 0 && conversation[^1].Contents.Any(c => c is FunctionResultContent)) return null;
        return draw < model.Simulation.ToolCallShare ? tools[0] : null;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    private TimeSpan Scale(TimeSpan span) => span * timeScale;

    private Task WaitAsync(TimeSpan span, CancellationToken cancellationToken)
    {
        var scaled = Scale(span);
        return scaled <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(scaled, time, cancellationToken);
    }
}
