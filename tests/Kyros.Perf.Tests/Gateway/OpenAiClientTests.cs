using System.ClientModel;
using OpenAI;
using OpenAI.Chat;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>The official OpenAI .NET client, pointed at Kyros' /v1, gets a completion and a stream.</summary>
public sealed class OpenAiClientTests(GatewaySilo fixture) : IClassFixture<GatewaySilo>
{
    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(fixture.Silo.Http.BaseAddress!, "/v1") });

    [Fact]
    public async Task The_official_client_gets_a_completion_and_a_stream()
    {
        ChatCompletion completion = await Client("echo").CompleteChatAsync([new UserChatMessage("from the official client")]);
        Assert.Equal("echo: from the official client", completion.Content[0].Text);
        Assert.Equal("echo", completion.Model);
        Assert.Equal(11, completion.Usage.InputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);

        var text = new System.Text.StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in Client("echo").CompleteChatStreamingAsync([new UserChatMessage("streamed to it")]))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            usage ??= update.Usage;
        }
        Assert.Equal("echo: streamed to it", text.ToString());
        Assert.Equal(4, usage?.OutputTokenCount);
    }

    [Fact]
    public async Task The_official_client_shows_our_error_message_and_status()
    {
        var error = await Assert.ThrowsAsync<ClientResultException>(() => Client("gpt-17").CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, error.Status);
        Assert.Contains("model 'gpt-17' is neither auto", error.Message);
    }
}
