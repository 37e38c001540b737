using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Kyros.Perf.Catalog;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Gateway;

/// <summary>
/// What every provider client of the gateway shares: one connection pool that follows no redirect and connects only
/// where <see cref="ProviderNetworks"/> allows, the model's key (from configuration or its variable, never from the
/// catalog), and the gateway's policy (no client retries, a network timeout behind the catalog's own).
/// </summary>
public sealed class ProviderConnections : IDisposable
{
    private readonly IOptions<GatewayOptions> _options;
    private readonly ModelCatalog _catalog;
    private readonly SocketsHttpHandler _pool;
    private HttpClient? _http;

    public ProviderConnections(IOptions<GatewayOptions> options, ModelCatalog catalog)
    {
        (_options, _catalog) = (options, catalog);
        var networks = new ProviderNetworks(options.Value.ProviderNetworksAllowed());
        // A redirect would take the model's key, and the caller's prompt, to wherever the provider points.
        _pool = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AllowAutoRedirect = false,
            ConnectCallback = (context, cancellationToken) => networks.ConnectAsync(context.DnsEndPoint, cancellationToken),
        };
    }

    /// <summary>One client over the pool, for every call; each call's own timeout applies.</summary>
    public HttpClient Http => _http ??= new HttpClient(new StreamFallbackHandler(_pool), disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>A client over the pool with a base address, for libraries that take one (OllamaSharp).</summary>
    public HttpClient HttpFor(ModelDescriptor model) =>
        new(new StreamFallbackHandler(_pool), disposeHandler: false) { BaseAddress = new Uri(model.Endpoint!), Timeout = NetworkTimeout(model) };

    /// <summary>
    /// The model's key: a configured one (<c>Kyros:Gateway:ApiKeys</c>) only while the model points where it pointed in
    /// the configuration, so an endpoint changed at run time never receives it; else its variable's, only from a
    /// provider variable (<see cref="ModelDescriptorValidator.ApiKeyVariablePrefix"/>), never the silo's own secrets.
    /// </summary>
    public string Key(ModelDescriptor model) =>
        (_options.Value.ApiKeys.GetValueOrDefault(model.Id) is { } configured && PointsAsConfigured(model) ? configured : null)
        ?? (model.ApiKeyVariable is { } variable && ModelDescriptorValidator.IsApiKeyVariable(variable) ? Environment.GetEnvironmentVariable(variable) : null)
        ?? "none"; // local servers (Ollama, vLLM, llama.cpp) take any key

    private bool PointsAsConfigured(ModelDescriptor model) =>
        _catalog.Configured.FirstOrDefault(m => m.Id == model.Id) is { } configured && Authority(configured.Endpoint) == Authority(model.Endpoint);

    /// <summary>Scheme, host and port: what a key is bound to (null for a provider's own default endpoint).</summary>
    public static string? Authority(string? endpoint) =>
        Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant() : null;

    public ApiKeyCredential Credential(ModelDescriptor model) => new(Key(model));

    /// <summary>The gateway retries and falls back itself, honouring Retry-After; the client's own retries would hide both.</summary>
    public T WithGatewayPolicy<T>(T client, ModelDescriptor model) where T : ClientPipelineOptions
    {
        client.RetryPolicy = new ClientRetryPolicy(maxRetries: 0);
        client.NetworkTimeout = NetworkTimeout(model);
        client.Transport = new HttpClientPipelineTransport(Http);
        return client;
    }

    /// <summary>The gateway's own timeout (the catalog's) comes first; this only bounds a stuck connection.</summary>
    public static TimeSpan NetworkTimeout(ModelDescriptor model) => TimeSpan.FromSeconds(model.TimeoutSeconds + 5);

    /// <summary>The catalog's api-version as the client library names it (2024-10-21 is V2024_10_21); none takes the library's default.</summary>
    public static AzureOpenAIClientOptions AzureOptions(ModelDescriptor model)
    {
        if (model.ApiVersion is null) return new AzureOpenAIClientOptions();
        if (Enum.TryParse<AzureOpenAIClientOptions.ServiceVersion>("V" + model.ApiVersion.Replace('-', '_'), out var version)) return new AzureOpenAIClientOptions(version);
        var known = string.Join(", ", Enum.GetNames<AzureOpenAIClientOptions.ServiceVersion>().Select(n => n[1..].Replace('_', '-')));
        throw new ProviderException($"{model.Id}'s api_version {model.ApiVersion} is not one the Azure OpenAI client speaks ({known}).", 404, "provider_error");
    }

    public void Dispose()
    {
        _http?.Dispose();
        _pool.Dispose();
    }
}
