using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OpenAI;

namespace Kyros.Perf.Gateway;

/// <summary>One <see cref="IChatClient"/> per catalog model, made on first use: simulated, or any OpenAI-compatible endpoint.</summary>
public sealed class ChatClients(IOptions<GatewayOptions> options, TimeProvider time) : IDisposable
{
    // Each client with the descriptor it was made from: a model changed at run time is a new descriptor, and gets a new client.
    private readonly ConcurrentDictionary<string, (ModelDescriptor Source, IChatClient Client)> _clients = new(StringComparer.Ordinal);
    private readonly int _seed = options.Value.SimulationSeed ?? Random.Shared.Next();

    // One connection pool for every OpenAI-compatible model; the client's own timeout (NetworkTimeout) applies per call.
    private readonly HttpClient _http = new(new StreamFallbackHandler(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }))
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

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
        if (model.Provider == "simulated")
            return new SimulatedChatClient(model, new Random(_seed ^ StableStringHash.Of(model.Id)), options.Value.SimulationTimeScale, time);
        var key = options.Value.ApiKeys.GetValueOrDefault(model.Id)
                  ?? (model.ApiKeyVariable is { } variable ? Environment.GetEnvironmentVariable(variable) : null)
                  ?? "none"; // local servers (Ollama, vLLM, llama.cpp) take any key
        var client = new OpenAIClient(new ApiKeyCredential(key), new OpenAIClientOptions
        {
            Endpoint = new Uri(model.Endpoint!),
            // The gateway retries and falls back itself, honouring Retry-After; the client's own retries would hide both.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            // The gateway's own timeout (the catalog's) comes first; this only bounds a stuck connection.
            NetworkTimeout = TimeSpan.FromSeconds(model.TimeoutSeconds + 5),
            Transport = new HttpClientPipelineTransport(_http),
        });
        return client.GetChatClient(model.RemoteModel ?? model.Id).AsIChatClient();
    }

    public void Dispose()
    {
        foreach (var (_, client) in _clients.Values) client.Dispose();
        _http.Dispose();
    }
}
