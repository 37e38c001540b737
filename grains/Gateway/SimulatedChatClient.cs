using System.Runtime.CompilerServices;
using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Gateway;

/// <summary>
/// The <c>simulated</c> provider: a model that answers with filler text of the requested length at the pace and error
/// rate its <see cref="SimulationProfile"/> gives. For demos and tests; its text starts with <c>[simulated]</c> and the
/// gateway marks its results as simulated. A simulated timeout fails after the time to first token, rather than
/// holding the request for the model's whole timeout.
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
        var input = messages.Sum(m => PromptTokens.Count(m.Text, model.Tokenizer));
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
        var tokens = options?.MaxOutputTokens ?? 256;
        for (var i = 0; i < tokens; i++)
        {
            if (i > 0) await WaitAsync(draw.PerToken, cancellationToken);
            yield return new ChatResponseUpdate(ChatRole.Assistant, SimulatedModel.Word(i)) { ModelId = model.Id };
        }
        yield return new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            ModelId = model.Id,
            FinishReason = ChatFinishReason.Length,
            Contents = [new UsageContent(new UsageDetails { InputTokenCount = input, OutputTokenCount = tokens, TotalTokenCount = input + tokens })],
        };
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
