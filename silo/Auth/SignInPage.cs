using System.Net;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// The sign-in page for browsers (the dashboard, the product's pages): a form that takes a key and sets an HttpOnly,
/// SameSite=Strict session cookie (<see cref="ApiKeys.SessionOf"/>: never the key itself). Plain HTML, no script.
/// </summary>
public static class SignInPage
{
    public const string Path = "/signin";

    public static void MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (string? @return) => Page(Local(@return), error: null));
        app.MapPost(Path, async (HttpContext context, ApiKeys keys) =>
        {
            if (!context.Request.HasFormContentType)
                return Api.Problems.Field("Content-Type", "Sign in with the form: application/x-www-form-urlencoded with 'key'.", StatusCodes.Status415UnsupportedMediaType);
            var form = await context.Request.ReadFormAsync();
            var target = Local(form["return"].ToString());
            if (keys.Find(form["key"].ToString()) is not { } key) return Page(target, "That key is not valid.", StatusCodes.Status401Unauthorized);
            context.Response.Cookies.Append(ApiKeyMiddleware.SessionCookie, keys.SessionOf(key), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
            return Results.Redirect(target);
        }).DisableAntiforgery();
        app.MapPost("/signout", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(ApiKeyMiddleware.SessionCookie);
            return Results.Redirect(Path);
        }).RequireScope(Scopes.Read);
    }

    /// <summary>Only a path on this site: a sign-in must not send the browser elsewhere.</summary>
    private static string Local(string? target) =>
        target is { Length: > 0 } t && t[0] == '/' && !t.StartsWith("//", StringComparison.Ordinal) && !t.StartsWith("/\\", StringComparison.Ordinal) ? t : "/ui";

    private static IResult Page(string target, string? error, int status = StatusCodes.Status200OK) => Results.Content($$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Kyros.Perf: sign in</title>
        <link rel="icon" href="data:,">
        <style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}input{width:100%;padding:.5rem;margin:.5rem 0;box-sizing:border-box}.error{color:#b00020}</style>
        </head><body>
        <h1>Kyros.Perf</h1>
        <p>Sign in with an API key that has the <code>read</code> scope.</p>
        {{(error is null ? "" : $"<p class=\"error\">{WebUtility.HtmlEncode(error)}</p>")}}
        <form method="post" action="{{Path}}">
        <input type="hidden" name="return" value="{{WebUtility.HtmlEncode(target)}}">
        <label for="key">API key</label><input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
        <input type="submit" value="Sign in">
        </form>
        </body></html>
        """, "text/html; charset=utf-8", statusCode: status);
}
