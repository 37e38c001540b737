using System.Collections.Concurrent;
using Azure.AI.OpenAI;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using OllamaSharp;
using OpenAI;

namespace Kyros.Perf.Gateway;

/// <summary>
/// One <see cref="IEmbeddingGenerator{TInput,TEmbedding}"/> per catalog embedding model, made on first use: simulated,
/// OpenAI-compatible, Azure OpenAI or Ollama. Made with the same options as <see cref="ChatClients"/>: no client retries,
/// one connection pool.
/// </summary>
public sealed class EmbeddingGenerators : IDisposable
{
    // Each generator with the descriptor it was made from: a model changed at run time is a new descriptor, and gets a new generator.
    private readonly ConcurrentDictionary<string, (ModelDescriptor Source, IEmbeddingGenerator<string, Embedding<float>> Generator)> _generators =
        new(StringComparer.Ordinal);
    private readonly GatewayOptions _options;
    private readonly TimeProvider _time;
    private readonly ProviderConnections _connections;
    private readonly int _seed;

    public EmbeddingGenerators(IOptions<GatewayOptions> options, ProviderConnections connections, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _connections = connections;
        _seed = _options.SimulationSeed ?? Random.Shared.Next();
    }

    public IEmbeddingGenerator<string, Embedding<float>> For(ModelDescriptor model)
    {
        if (_generators.TryGetValue(model.Id, out var made) && ReferenceEquals(made.Source, model)) return made.Generator;
        var generator = Create(model);
        // The generator it replaces may still serve a call in flight: it is left to the collector, not disposed under it.
        _generators[model.Id] = (model, generator);
        return generator;
    }

    private IEmbeddingGenerator<string, Embedding<float>> Create(ModelDescriptor model)
    {
        var remote = model.RemoteModel ?? model.Id;
        return model.Provider switch
        {
            "simulated" => new SimulatedEmbeddingGenerator(model, new Random(_seed ^ StableStringHash.Of(model.Id)), _options.SimulationTimeScale, _time),
            "openai-compatible" => new OpenAIClient(_connections.Credential(model), _connections.WithGatewayPolicy(new OpenAIClientOptions { Endpoint = new Uri(model.Endpoint!) }, model))
                .GetEmbeddingClient(remote).AsIEmbeddingGenerator(),
            // Azure names the deployment, not the model: RemoteModel (or the id) is the deployment's name.
            "azure-openai" => new AzureOpenAIClient(new Uri(model.Endpoint!), _connections.Credential(model), _connections.WithGatewayPolicy(ProviderConnections.AzureOptions(model), model))
                .GetEmbeddingClient(remote).AsIEmbeddingGenerator(),
            "ollama" => new OllamaApiClient(_connections.HttpFor(model), remote),
            _ => throw new ProviderException($"{model.Id}'s provider ({model.Provider}) does not serve embeddings.", 404, "provider_error"),
        };
    }

    public void Dispose()
    {
        foreach (var (_, generator) in _generators.Values) generator.Dispose();
    }
}
