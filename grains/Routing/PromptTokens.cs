using Kyros.Perf.Catalog;
using Microsoft.ML.Tokenizers;

namespace Kyros.Perf.Routing;

/// <summary>Counts a prompt's tokens with a model's encoding (<see cref="Catalog.ModelDescriptor.Tokenizer"/>).</summary>
public static class PromptTokens
{
    public const string O200k = "o200k";
    public const string Cl100k = "cl100k";
    public static IReadOnlyList<string> Encodings => ModelDescriptorValidator.Tokenizers;

    private static readonly Lazy<Tokenizer> O200kBase = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100kBase = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    /// <summary>The count with <paramref name="encoding"/>; o200k, the default, is the estimate for every model without one of its own.</summary>
    public static long Count(string text, string encoding = O200k) =>
        text.Length == 0 ? 0 : (encoding == Cl100k ? Cl100kBase : O200kBase).Value.CountTokens(text);
}

/// <summary>A request's input tokens under each encoding its candidates use: given once, or counted from its prompt.</summary>
public readonly record struct InputTokens(long O200k, long Cl100k)
{
    public long For(ModelDescriptor model) => model.Tokenizer == PromptTokens.Cl100k ? Cl100k : O200k;

    /// <summary>The larger count: what the adaptive strategy weighs a request's length by.</summary>
    public long Largest => Math.Max(O200k, Cl100k);

    /// <summary>The estimate, or the prompt counted once with each encoding that <paramref name="models"/> use.</summary>
    public static InputTokens Of(RequestFeatures features, IReadOnlyList<ModelDescriptor> catalog, ReadOnlySpan<int> models)
    {
        if (features.EstimatedTokens is { } estimated) return new InputTokens(estimated, estimated);
        if (features.Prompt is not { } prompt) return default;
        var used = new ModelDescriptor[models.Length];
        for (var i = 0; i < used.Length; i++) used[i] = catalog[models[i]];
        return Count([prompt], used);
    }

    /// <summary>The texts' tokens summed, with each encoding that <paramref name="models"/> use (0 for one none of them uses).</summary>
    public static InputTokens Count(IReadOnlyList<string> texts, IEnumerable<ModelDescriptor> models)
    {
        bool o200k = false, cl100k = false;
        foreach (var model in models)
        {
            if (model.Tokenizer == PromptTokens.Cl100k) cl100k = true;
            else o200k = true;
        }
        long Sum(string encoding)
        {
            long sum = 0;
            foreach (var text in texts) sum += PromptTokens.Count(text, encoding);
            return sum;
        }
        return new InputTokens(o200k ? Sum(PromptTokens.O200k) : 0, cl100k ? Sum(PromptTokens.Cl100k) : 0);
    }
}
