using Kyros.Perf.Routing;

namespace Kyros.Perf.Catalog;

/// <summary>The models every fresh install knows, all on the simulated provider: five chat models and one embedding model.</summary>
public static class DefaultCatalog
{
    public static IEnumerable<ModelDescriptor> Create() =>
    [
        Model("gpt-4", vision: true, code: true, reasoning: 0.95, creativity: 0.85, input: 0.03, output: 0.06, context: 128_000, latency: 2.5, quality: 0.92, ttft: 0.6, rate: 100),
        Model("gpt-3.5-turbo", vision: false, code: true, reasoning: 0.70, creativity: 0.70, input: 0.0005, output: 0.0015, context: 16_385, latency: 0.8, quality: 0.78, ttft: 0.2, rate: 400),
        Model("claude", vision: true, code: true, reasoning: 0.95, creativity: 0.90, input: 0.003, output: 0.015, context: 200_000, latency: 1.8, quality: 0.90, ttft: 0.5, rate: 150),
        Model("gemini-pro", vision: true, code: true, reasoning: 0.85, creativity: 0.80, input: 0.00125, output: 0.005, context: 1_000_000, latency: 1.2, quality: 0.85, ttft: 0.3, rate: 250),
        Model("local-llama", vision: false, code: true, reasoning: 0.60, creativity: 0.60, input: 0, output: 0, context: 8_192, latency: 1.5, quality: 0.70, ttft: 0.25, rate: 200),
        Embedding("text-embedding-3-small", dimensions: 1536, input: 0.00002, context: 8_191, latency: 0.15, ttft: 0.1),
    ];

    private static ModelDescriptor Embedding(string id, int dimensions, double input, int context, double latency, double ttft) => new()
    {
        Id = id,
        Provider = "simulated",
        Kind = ModelKinds.Embedding,
        EmbeddingDimensions = dimensions,
        Capabilities = new ModelCapabilities { Reasoning = 0, Creativity = 0 },
        InputPricePer1k = input,
        OutputPricePer1k = 0,
        ContextWindow = context,
        LatencyPrior = latency,
        QualityPrior = 0.8,
        TimeoutSeconds = 30,
        // An embedding is one answer: its latency is the simulated time to first token.
        Simulation = new SimulationProfile { TtftMedianSeconds = ttft },
        Tokenizer = PromptTokens.Cl100k,
    };

    private static ModelDescriptor Model(string id, bool vision, bool code, double reasoning, double creativity,
        double input, double output, int context, double latency, double quality, double ttft, double rate) => new()
    {
        Id = id,
        Provider = "simulated",
        Capabilities = new ModelCapabilities { Vision = vision, Code = code, Tools = id != "local-llama", Reasoning = reasoning, Creativity = creativity },
        InputPricePer1k = input,
        OutputPricePer1k = output,
        ContextWindow = context,
        MaxOutputTokens = Math.Min(4096, context / 2),
        LatencyPrior = latency,
        QualityPrior = quality,
        TimeoutSeconds = 60,
        // Latency priors are for a few hundred output tokens: first token, then the rest at the model's rate.
        Simulation = new SimulationProfile { TtftMedianSeconds = ttft, TokensPerSecond = rate },
        Tokenizer = id is "gpt-4" or "gpt-3.5-turbo" ? PromptTokens.Cl100k : PromptTokens.O200k,
    };
}
