using Microsoft.ML.Tokenizers;

namespace Kyros.Perf.Routing;

/// <summary>Counts a prompt's tokens with the o200k encoding (GPT-4o's), the estimate for every model.</summary>
public static class PromptTokens
{
    private static readonly Lazy<Tokenizer> Encoding = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public static long Count(string text) => text.Length == 0 ? 0 : Encoding.Value.CountTokens(text);
}
