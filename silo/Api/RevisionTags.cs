using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Kyros.Perf.Silo.Api;

/// <summary>Edits against a revision: the revision as an ETag, and the one an <c>If-Match</c> names.</summary>
public static class RevisionTags
{
    /// <summary>The revision an edit is made against: <c>If-Match: "12"</c> (or weak, <c>W/"12"</c>); none, or <c>*</c>, for any.</summary>
    public static long? IfMatch(HttpRequest request)
    {
        if (StringValues.IsNullOrEmpty(request.Headers.IfMatch)) return null;
        var text = request.Headers.IfMatch.ToString().Trim();
        if (text == "*") return null;
        if (text.StartsWith("W/", StringComparison.Ordinal)) text = text[2..];
        return text.Length > 2 && text[0] == '"' && text[^1] == '"' && long.TryParse(text[1..^1], NumberStyles.None, CultureInfo.InvariantCulture, out var revision)
            ? revision
            : throw new ArgumentException($"If-Match must be one ETag this API gave (such as \"12\"); got {request.Headers.IfMatch}.", "If-Match");
    }

    public static string Tag(long revision) => $"\"{revision.ToString(CultureInfo.InvariantCulture)}\"";
}
