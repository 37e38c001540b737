namespace Kyros.Perf.Common;

/// <summary>FNV-1a over a string's chars: the same value for the same text in every process (unlike string.GetHashCode).</summary>
public static class StableStringHash
{
    public static int Of(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text) hash = (hash ^ c) * 16777619u;
        return (int)hash;
    }
}
