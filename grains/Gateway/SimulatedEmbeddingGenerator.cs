using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Gateway;

/// <summary>
/// The <c>simulated</c> provider's embeddings: a unit vector per text that depends on the text alone (the same text
/// gives the same vector in every process and run), after the model's time to first token, failing at its error rate
/// as <see cref="SimulatedChatClient"/> does. The vectors carry no meaning; they are for demos and tests.
/// </summary>
public sealed class SimulatedEmbeddingGenerator(ModelDescriptor model, Random random, double timeScale, TimeProvider time)
    : IEmbeddingGenerator<string, Embedding<float>>
{
    /// <summary>The length when neither the request nor the catalog names one (OpenAI's text-embedding-3-small).</summary>
    public const int DefaultDimensions = 1536;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        SimulatedDraw draw;
        lock (random) draw = SimulatedModel.Draw(model.Simulation, random);
        var wait = draw.TimeToFirstToken * timeScale;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, time, cancellationToken);
        switch (draw.ErrorKind)
        {
            case "timeout":
                throw new ProviderException($"{model.Id} (simulated) timed out.", 408, "timeout");
            case "rate_limit":
                throw new ProviderException($"{model.Id} (simulated) is rate limited.", 429, "rate_limit", TimeSpan.FromSeconds(model.Simulation.RetryAfterSeconds) * timeScale);
            case "server_error":
                throw new ProviderException($"{model.Id} (simulated) failed with a server error.", 500, "server_error");
        }
        var dimensions = options?.Dimensions ?? model.EmbeddingDimensions ?? DefaultDimensions;
        var texts = values.ToList();
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(texts.Select(t => new Embedding<float>(Vector(t, dimensions)) { ModelId = model.Id }))
        {
            Usage = new UsageDetails { InputTokenCount = texts.Sum(t => PromptTokens.Count(t, model.Tokenizer)) },
        };
        embeddings.Usage.TotalTokenCount = embeddings.Usage.InputTokenCount;
        return embeddings;
    }

    /// <summary>
    /// A unit vector drawn from the text's 64-bit FNV-1a hash with SplitMix64, which is fixed arithmetic (System.Random's
    /// sequence for a seed is not promised across .NET versions). A shorter vector is a prefix of a longer one, rescaled.
    /// </summary>
    public static float[] Vector(string text, int dimensions)
    {
        var state = 14695981039346656037ul;
        foreach (var c in text) state = (state ^ c) * 1099511628211ul;
        var vector = new float[dimensions];
        double sumOfSquares = 0;
        for (var i = 0; i < dimensions; i++)
        {
            state += 0x9E3779B97F4A7C15ul;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
            z ^= z >> 31;
            // The top 53 bits as a uniform in [-1, 1).
            var value = (z >> 11) * (1.0 / (1ul << 53)) * 2 - 1;
            vector[i] = (float)value;
            sumOfSquares += value * value;
        }
        var norm = Math.Sqrt(sumOfSquares);
        if (norm > 0)
            for (var i = 0; i < dimensions; i++) vector[i] = (float)(vector[i] / norm);
        return vector;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
