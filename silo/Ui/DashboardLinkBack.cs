using System.Text;

namespace Kyros.Perf.Silo.Ui;

/// <summary>
/// The Orleans dashboard is Orleans' own page, with no place for a link of ours: its HTML shell gets one back to the
/// product's pages, fixed in a corner. Only that one document is touched; anything unexpected passes through unchanged.
/// </summary>
public static class DashboardLinkBack
{
    private const string Link =
        "<a href=\"/ui\" id=\"kyros-pages-link\" style=\"position:fixed;right:12px;bottom:12px;z-index:10000;background:#141a2a;color:#fff;" +
        "padding:6px 12px;border-radius:4px;font:14px system-ui,sans-serif;text-decoration:none\">&larr; Kyros.Perf pages</a>";

    public static IApplicationBuilder UseDashboardLinkBack(this IApplicationBuilder app, string dashboardPath) => app.Use(async (context, next) =>
    {
        var path = context.Request.Path;
        if (!HttpMethods.IsGet(context.Request.Method) || !(path.Equals(dashboardPath + "/") || path.Equals(dashboardPath + "/index.html")))
        {
            await next(context);
            return;
        }
        // The shell is small: read it whole, uncompressed, and add the link before </body>.
        context.Request.Headers.AcceptEncoding = "identity";
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
        var body = buffer.ToArray();
        if (context.Response.StatusCode == StatusCodes.Status200OK && context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true
            && context.Response.Headers.ContentEncoding.Count == 0)
        {
            var html = Encoding.UTF8.GetString(body);
            var end = html.LastIndexOf("</body>", StringComparison.OrdinalIgnoreCase);
            if (end >= 0) body = Encoding.UTF8.GetBytes(html.Insert(end, Link));
        }
        context.Response.ContentLength = body.Length;
        await original.WriteAsync(body);
    });
}
