using System.Net;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// The sign-in page for browsers (the dashboard, the product's pages): a form that takes a key and sets an HttpOnly,
/// SameSite=Strict session cookie that expires (<see cref="ApiKeys.NewSession"/>: never the key itself); failed
/// attempts are throttled per address (<see cref="SignInThrottle"/>). Plain HTML, no script.
/// </summary>
public static class SignInPage
{
    public const string Path = "/signin";

    public static void MapSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, (string? @return) => Page(Local(@return), error: null));
        app.MapPost(Path, async (HttpContext context, ApiKeys keys, SignInThrottle throttle) =>
        {
            if (!context.Request.HasFormContentType)
                return Api.Problems.Field("Content-Type", "Sign in with the form: application/x-www-form-urlencoded with 'key'.", StatusCodes.Status415UnsupportedMediaType);
            var client = context.Connection.RemoteIpAddress;
            var form = await context.Request.ReadFormAsync();
            var target = Local(form["return"].ToString());
            if (throttle.WaitFor(client) is { } wait)
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                return Page(target, $"Too many failed sign-ins from this address: try again in {seconds} s.", StatusCodes.Status429TooManyRequests);
            }
            if (keys.Find(form["key"].ToString()) is not { } key)
            {
                throttle.Failed(client);
                return Page(target, "That key is not valid.", StatusCodes.Status401Unauthorized);
            }
            var session = keys.NewSession(key);
            context.Response.Cookies.Append(ApiKeyMiddleware.SessionCookie, session.Cookie, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                // HTTPS as Kestrel serves it, or as a trusted proxy says (Kyros:Auth:TrustedProxies).
                Secure = context.Request.IsHttps,
                Path = "/",
                Expires = session.ExpiresAt,
            });
            return Results.Redirect(target);
        }).DisableAntiforgery();
        app.MapPost("/signout", async (HttpContext context, ApiKeys keys, IGrainFactory grains) =>
        {
            // The cookie is refused on every silo from now on, not only forgotten by this browser.
            if (context.Request.Cookies.TryGetValue(ApiKeyMiddleware.SessionCookie, out var cookie) && keys.FromSession(cookie) is { } session)
                await grains.GetGrain<Keys.IApiKeyDirectoryGrain>(0).RevokeSessionAsync(session.Id, session.ExpiresAt);
            context.Response.Cookies.Delete(ApiKeyMiddleware.SessionCookie);
            return Results.Redirect(Path);
        }).RequireScope(Scopes.Read);
    }

    /// <summary>
    /// Only a path on this site: a sign-in must not send the browser elsewhere. Browsers drop tabs and line breaks from
    /// an address and read a backslash as a slash, so any of those (or a second leading slash) could make it another
    /// site's; such a target becomes <c>/ui</c>.
    /// </summary>
    public static string Local(string? target)
    {
        if (target is not { Length: > 0 and <= 2048 } t || t[0] != '/' || (t.Length > 1 && t[1] is '/' or '\\')) return "/ui";
        if (t.Any(c => c < '!' || c > '~' || c == '\\')) return "/ui";
        return Uri.TryCreate(Site, t, out var resolved) && resolved.Host == Site.Host && resolved.Scheme == Site.Scheme ? t : "/ui";
    }

    private static readonly Uri Site = new("http://kyros.invalid/");

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
