using Azure.AI.OpenAI;
using System.Collections.Concurrent;
using Anthropic;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OllamaSharp;
using OpenAI;

namespace Kyros.Perf.Gateway;

/// <summary>
/// One <see cref="IChatClient"/> per catalog model, made on first use by its provider: simulated, any OpenAI-compatible
/// endpoint, Azure OpenAI (a deployment at an api-version), Anthropic's Messages API or Ollama's own API; all over one
/// connection pool.
/// </summary>
public sealed class ChatClients(IOptions<GatewayOptions> options, ProviderConnections connections, TimeProvider time) : IDisposable
{
    // Each client with the descriptor it was made from: a model changed at run time is a new descriptor, and gets a new client.
    private readonly ConcurrentDictionary<string, (ModelDescriptor Source, IChatClient Client)> _clients = new(StringComparer.Ordinal);
    private readonly int _seed = options.Value.SimulationSeed ?? Random.Shared.Next();

    public IChatClient For(ModelDescriptor model)
    {
        if (_clients.TryGetValue(model.Id, out var made) && ReferenceEquals(made.Source, model)) return made.Client;
        var client = Create(model);
        // The client it replaces may still serve a call in flight: it is left to the collector, not disposed under it.
        _clients[model.Id] = (model, client);
        return client;
    }

    private IChatClient Create(ModelDescriptor model)
    {
        var remote = model.RemoteModel ?? model.Id;
        return model.Provider switch
        {
            "simulated" => new SimulatedChatClient(model, new Random(_seed ^ StableStringHash.Of(model.Id)), options.Value.SimulationTimeScale, time),
            // Azure names the deployment, not the model: RemoteModel (or the id) is the deployment's name.
            "azure-openai" => new AzureOpenAIClient(new Uri(model.Endpoint!), connections.Credential(model), connections.WithGatewayPolicy(ProviderConnections.AzureOptions(model), model))
                .GetChatClient(remote).AsIChatClient(),
            "ollama" => new OllamaApiClient(connections.HttpFor(model), remote),
            "anthropic" => Anthropic(model, remote),
            _ => new OpenAIClient(connections.Credential(model), connections.WithGatewayPolicy(new OpenAIClientOptions { Endpoint = new Uri(model.Endpoint!) }, model))
                .GetChatClient(remote).AsIChatClient(),
        };
    }

    private IChatClient Anthropic(ModelDescriptor model, string remote)
    {
        var anthropic = new AnthropicClient
        {
            ApiKey = connections.Key(model),
            BaseUrl = model.Endpoint!,
            HttpClient = connections.Http,
            // The SDK does not expose a failure's Retry-After: this handler, around the client, keeps it.
            Handlers = [new AnthropicRetryAfterHandler(model.Id, time)],
            // The gateway retries and falls back itself, and bounds the call with the catalog's timeout first.
            MaxRetries = 0,
            Timeout = ProviderConnections.NetworkTimeout(model),
        };
        // The adapter sends max_tokens (required by Anthropic) from ChatOptions, or this default when a call gives none.
        return anthropic.AsIChatClient(remote, model.MaxOutputTokens);
    }

    public void Dispose()
    {
        foreach (var (_, client) in _clients.Values) client.Dispose();
    }
}
