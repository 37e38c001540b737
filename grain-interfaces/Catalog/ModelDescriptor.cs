namespace Kyros.Perf.Catalog;

/// <summary>One model in the catalog: where it is served, what it can do, what it costs, what to expect of it.</summary>
[GenerateSerializer, Alias("kyros.ModelDescriptor")]
public sealed class ModelDescriptor
{
    [Id(0)] public string Id { get; set; } = "";
    /// <summary><c>simulated</c>, <c>openai-compatible</c>, <c>anthropic</c>, <c>azure-openai</c> or <c>ollama</c>: who speaks to the model, and how.</summary>
    [Id(1)] public string Provider { get; set; } = "simulated";
    [Id(2)] public string? Endpoint { get; set; }
    [Id(3)] public ModelCapabilities Capabilities { get; set; } = new();
    [Id(4)] public double InputPricePer1k { get; set; }
    [Id(5)] public double OutputPricePer1k { get; set; }
    [Id(6)] public int ContextWindow { get; set; } = 8192;
    [Id(7)] public int MaxOutputTokens { get; set; } = 4096;
    /// <summary>Median latency in seconds to expect before live statistics exist.</summary>
    [Id(8)] public double LatencyPrior { get; set; } = 1;
    /// <summary>Quality (0-1) to expect before feedback exists.</summary>
    [Id(9)] public double QualityPrior { get; set; } = 0.7;
    [Id(10)] public double TimeoutSeconds { get; set; } = 60;
    /// <summary>Requests per minute the provider allows; null for no limit.</summary>
    [Id(11)] public int? RequestsPerMinute { get; set; }
    /// <summary>Tokens (input and output) per minute the provider allows; null for no limit.</summary>
    [Id(12)] public long? TokensPerMinute { get; set; }
    /// <summary>The hosts that serve it (their Kyros host names), if it runs on hosts of your own; adaptive routing discounts a model whose hosts all have active alerts.</summary>
    [Id(13)] public List<string> Hosts { get; set; } = [];
    /// <summary>The model's name at its provider (for example <c>llama3.1:8b</c> on Ollama); null means <see cref="Id"/>.</summary>
    [Id(14)] public string? RemoteModel { get; set; }
    /// <summary>The environment variable holding the provider's API key (the key itself is never part of the catalog).</summary>
    [Id(15)] public string? ApiKeyVariable { get; set; }
    /// <summary>How the <c>simulated</c> provider behaves for this model.</summary>
    [Id(16)] public SimulationProfile Simulation { get; set; } = new();
    /// <summary>
    /// The encoding a prompt is counted with for this model: <c>o200k</c> (GPT-4o and later; the estimate for models
    /// whose tokenizers are their own) or <c>cl100k</c> (GPT-4, GPT-3.5).
    /// </summary>
    [Id(17)] public string Tokenizer { get; set; } = "o200k";
    /// <summary><c>chat</c> (chat completions and messages) or <c>embedding</c> (<c>/v1/embeddings</c>); routing keeps the two apart.</summary>
    [Id(18)] public string Kind { get; set; } = ModelKinds.Chat;
    /// <summary>The <c>api-version</c> an <c>azure-openai</c> model is called with; null takes the client library's default.</summary>
    [Id(19)] public string? ApiVersion { get; set; }
    /// <summary>An embedding model's vector length when the request names none (the simulated provider's, and what the catalog shows).</summary>
    [Id(20)] public int? EmbeddingDimensions { get; set; }
    /// <summary>
    /// Seconds an answer of this model stays in the exact response cache (1..86400); null (the default) caches nothing
    /// unless a request asks with <c>x-kyros-cache-ttl</c>. Only deterministic requests are cached (docs/gateway.md).
    /// </summary>
    [Id(21)] public int? CacheTtlSeconds { get; set; }
    /// <summary>The p95 latency (seconds) the model is held to; its latency alert is against this, not its own 24 h baseline (docs/alerts.md).</summary>
    [Id(22)] public double? LatencySloSeconds { get; set; }
    /// <summary>The p95 time to first token (seconds) the model is held to; as <see cref="LatencySloSeconds"/> for <c>ttft_p95</c>.</summary>
    [Id(23)] public double? TtftSloSeconds { get; set; }
    /// <summary>The share of calls that must succeed (0 &lt; x &lt; 1, such as 0.999): turns on the error budget burn alert.</summary>
    [Id(24)] public double? AvailabilitySlo { get; set; }

    /// <summary>What a request of these tokens costs at the catalog's prices: what the router expects and the gateway records.</summary>
    public double PriceOf(long inputTokens, long outputTokens) => (inputTokens * InputPricePer1k + outputTokens * OutputPricePer1k) / 1000;
}

/// <summary>
/// The simulated provider's behaviour: time to first token from a log-normal distribution (median and spread, the
/// standard deviation of its logarithm), then tokens at a steady rate; errors at a rate, split by kind.
/// </summary>
[GenerateSerializer, Alias("kyros.SimulationProfile")]
public sealed class SimulationProfile
{
    [Id(0)] public double TtftMedianSeconds { get; set; } = 0.4;
    [Id(1)] public double Spread { get; set; } = 0.35;
    [Id(2)] public double TokensPerSecond { get; set; } = 60;
    [Id(3)] public double ErrorRate { get; set; } = 0.01;
    /// <summary>Of the errors, the shares that are timeouts and rate limits (with Retry-After); the rest are server errors.</summary>
    [Id(4)] public double TimeoutShare { get; set; } = 0.2;
    [Id(5)] public double RateLimitShare { get; set; } = 0.4;
    [Id(6)] public double RetryAfterSeconds { get; set; } = 1;
    /// <summary>Of the answers to a request with tools (and no tool required), the share that call a tool.</summary>
    [Id(7)] public double ToolCallShare { get; set; } = 0.5;
}

[GenerateSerializer, Alias("kyros.ModelCapabilities")]
public sealed class ModelCapabilities
{
    [Id(0)] public bool Vision { get; set; }
    [Id(1)] public bool Code { get; set; }
    [Id(2)] public bool Tools { get; set; }
    /// <summary>Answers to a <c>json_schema</c> response format (structured output).</summary>
    [Id(5)] public bool StructuredOutput { get; set; }
    /// <summary>0-1.</summary>
    [Id(3)] public double Reasoning { get; set; } = 0.5;
    /// <summary>0-1.</summary>
    [Id(4)] public double Creativity { get; set; } = 0.5;
}

/// <summary>What a catalog model is for.</summary>
public static class ModelKinds
{
    public const string Chat = "chat";
    public const string Embedding = "embedding";
    public static readonly IReadOnlyList<string> All = [Chat, Embedding];
}
