using System.Collections.Frozen;
using System.Security.Cryptography;
using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Ui;

/// <summary>
/// The product's pages at <c>/ui</c>: one HTML shell for every page path and its scripts and styles, all embedded in
/// the silo (no build step, no fetch from elsewhere). The pages read the JSON API with the session cookie, so a key
/// sees and may do exactly what its scopes allow. Nothing from the API is written into the page as markup.
/// </summary>
public static class ProductPages
{
    public const string Path = "/ui";
    private const string Shell = "index.html";

    // Scripts from this site only; inline styles for chart attributes; no frames.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

    public static void MapProductPages(this IEndpointRouteBuilder app)
    {
        var assets = Assets.Load();
        app.MapGet("/", () => Results.Redirect(Path)).ExcludeFromDescription();
        app.MapGet(Path, (HttpContext context) => Serve(context, assets, Shell)).RequireScope(Scopes.Read).ExcludeFromDescription();
        app.MapGet($"{Path}/{{**page}}", (string page, HttpContext context) =>
            page.StartsWith("assets/", StringComparison.Ordinal) ? Serve(context, assets, page["assets/".Length..]) : Serve(context, assets, Shell))
            .RequireScope(Scopes.Read).ExcludeFromDescription();
    }

    private static IResult Serve(HttpContext context, FrozenDictionary<string, Asset> assets, string name)
    {
        if (!assets.TryGetValue(name, out var asset)) return Api.Problems.Field("path", $"No page asset '{name}'.", StatusCodes.Status404NotFound);
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        // Revalidated each time (a new silo version brings new assets); the ETag makes that a 304.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag);

    private static class Assets
    {
        private const string Prefix = "ui/";

        public static FrozenDictionary<string, Asset> Load()
        {
            var assembly = typeof(ProductPages).Assembly;
            var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
            foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
            {
                using var stream = assembly.GetManifestResourceStream(resource)!;
                using var buffer = new MemoryStream();
                stream.CopyTo(buffer);
                var content = buffer.ToArray();
                var name = resource[Prefix.Length..].Replace('\\', '/');
                assets[name] = new Asset(content, ContentType(name), $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
            }
            return assets.ToFrozenDictionary(StringComparer.Ordinal);
        }

        private static string ContentType(string name) => System.IO.Path.GetExtension(name) switch
        {
            ".html" => "text/html; charset=utf-8",
            ".js" => "text/javascript; charset=utf-8",
            ".css" => "text/css; charset=utf-8",
            ".svg" => "image/svg+xml",
            _ => "application/octet-stream",
        };
    }
}
