using System.ClientModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kyros.Perf.Tests.Infrastructure;
using OpenAI;
using OpenAI.Chat;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// Chat through the azure-openai and ollama providers: the official OpenAI client to the silo, the silo to a local
/// server speaking each provider's own API; what that server received and what the client got.
/// </summary>
public sealed class NativeProviderTests : IAsyncLifetime
{
    private OpenAiTestServer _backend = null!;
    private HttpSilo _silo = null!;

    public async ValueTask InitializeAsync()
    {
        _backend = await OpenAiTestServer.StartAsync();
        _silo = await HttpSilo.StartAsync(null, null, [
            "--Kyros:Catalog:Models:0:Id=azure-chat", "--Kyros:Catalog:Models:0:Provider=azure-openai", $"--Kyros:Catalog:Models:0:Endpoint={_backend.RootUrl}",
            "--Kyros:Catalog:Models:0:RemoteModel=tools-deployment", "--Kyros:Catalog:Models:0:ApiVersion=2024-10-21", "--Kyros:Catalog:Models:0:Capabilities:Tools=true",
            "--Kyros:Gateway:ApiKeys:azure-chat=azure-secret",
            "--Kyros:Catalog:Models:1:Id=ollama-chat", "--Kyros:Catalog:Models:1:Provider=ollama", $"--Kyros:Catalog:Models:1:Endpoint={_backend.RootUrl}",
            "--Kyros:Catalog:Models:1:RemoteModel=llama3.1:8b", "--Kyros:Catalog:Models:1:Capabilities:Tools=true"]);
    }

    public async ValueTask DisposeAsync()
    {
        await _silo.DisposeAsync();
        await _backend.DisposeAsync();
    }

    private ChatClient Client(string model) =>
        new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_silo.Http.BaseAddress!, "/v1") });

    private static ChatCompletionOptions WithTool()
    {
        var options = new ChatCompletionOptions();
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The weather", BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}}}""")));
        return options;
    }

    [Fact]
    public async Task Azure_openai_is_called_at_its_deployment_with_its_api_version_and_key_and_its_tool_calls_come_back()
    {
        ChatCompletion completion = await Client("azure-chat").CompleteChatAsync([new UserChatMessage("Weather?")], WithTool());
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal("get_weather", completion.ToolCalls[0].FunctionName);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OpenAiTestServer.ToolArguments[0]), JsonNode.Parse(completion.ToolCalls[0].FunctionArguments.ToString())));
        var (deployment, version, key) = _backend.AzureCalls.Last();
        Assert.Equal(("tools-deployment", "2024-10-21", "azure-secret"), (deployment, version, key));
        Assert.Equal("get_weather", _backend.ChatRequests.Last().GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Ollama_is_called_on_its_own_api_with_the_tools_and_its_answers_and_tool_calls_come_back()
    {
        ChatCompletion echoed = await Client("ollama-chat").CompleteChatAsync([new UserChatMessage("hello there")]);
        Assert.Equal("echo: hello there", echoed.Content[0].Text);
        Assert.Equal((9, 2), (echoed.Usage.InputTokenCount, echoed.Usage.OutputTokenCount));

        ChatCompletion called = await Client("ollama-chat").CompleteChatAsync([new UserChatMessage("Weather?")], WithTool());
        Assert.Equal(ChatFinishReason.ToolCalls, called.FinishReason);
        Assert.Equal("get_weather", called.ToolCalls[0].FunctionName);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(OpenAiTestServer.ToolArguments[0]), JsonNode.Parse(called.ToolCalls[0].FunctionArguments.ToString())));
        var received = _backend.OllamaRequests.Last();
        Assert.Equal("llama3.1:8b", received.GetProperty("model").GetString());
        Assert.Equal("get_weather", received.GetProperty("tools")[0].GetProperty("function").GetProperty("name").GetString());

        // Ollama takes no tool_choice: a request that requires a tool is refused, naming the field, rather than sent without it.
        var options = WithTool();
        options.ToolChoice = ChatToolChoice.CreateRequiredChoice();
        var refused = await Assert.ThrowsAsync<ClientResultException>(() => Client("ollama-chat").CompleteChatAsync([new UserChatMessage("Weather?")], options));
        Assert.Equal(400, refused.Status);
        Assert.Contains("tool_choice", refused.Message);
    }
}
