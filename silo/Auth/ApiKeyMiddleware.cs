using System.Net;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// With keys configured: a request needs a key (<c>Authorization: Bearer</c>, <c>x-api-key</c>, or the pages' session
/// cookie) with the endpoint's scope. None or a wrong one is 401, too small a scope 403, both problem+json (OpenAI-shaped
/// on <c>/v1/chat/completions</c>, Anthropic-shaped on <c>/v1/messages</c>). <c>/healthz</c> and the sign-in page stay open; a browser asking for the dashboard is
/// sent to sign in. The key's name becomes the request's actor; the key itself is never logged or returned. A run-time key
/// (<see cref="Kyros.Perf.Keys.IApiKeyDirectoryGrain"/>) is checked the same way; its models are held by <see cref="ModelScope"/>.
/// </summary>
public sealed class ApiKeyMiddleware(RequestDelegate next, ApiKeys keys, IOptions<AuthOptions> options)
{
    public const string SessionCookie = "kyros_session";
    private const string KeyItem = "kyros.key";

    public static ApiKeys.Entry? KeyOf(HttpContext context) => context.Items.TryGetValue(KeyItem, out var key) ? key as ApiKeys.Entry : null;

    /// <summary>Who is calling, for logs and change histories: the key's name, or the caller's address without keys.</summary>
    public static string ActorOf(HttpContext context) => KeyOf(context) is { } key
        ? $"key {key.Name}"
        : $"http {context.Connection.RemoteIpAddress?.ToString() ?? "unknown"}";

    public static string? KeyNameOf(HttpContext context) => KeyOf(context)?.Name;

    /// <summary>The run-time key whose account admits and pays for the request's gateway calls; null for a configured key or none.</summary>
    public static Keys.KeyCaller? CallerOf(HttpContext context) => KeyOf(context)?.Caller;

    /// <summary>The scopes of the caller's key (so the pages offer only what it may do); none without a key.</summary>
    public static string[] ScopesOf(HttpContext context) => KeyOf(context) is { } key ? [.. key.Scopes.Order(StringComparer.Ordinal)] : [];

    public Task InvokeAsync(HttpContext context)
    {
        if (!keys.Enabled) return next(context);
        var path = context.Request.Path;
        if (path.Equals("/healthz") || path.StartsWithSegments(SignInPage.Path)) return next(context);
        if (path.StartsWithSegments("/metrics") && options.Value.OpenMetrics) return next(context);

        var presented = Presented(context.Request);
        var key = presented is not null ? keys.Find(presented)
            : context.Request.Cookies.TryGetValue(SessionCookie, out var session) ? keys.FromSession(session)?.Key : null;
        if (key is null)
        {
            if (presented is null && HttpMethods.IsGet(context.Request.Method) && (path.StartsWithSegments("/dashboard") || path.StartsWithSegments("/docs") || path.StartsWithSegments("/ui") || path == "/"))
            {
                context.Response.Redirect($"{SignInPage.Path}?return={WebUtility.UrlEncode(path + context.Request.QueryString)}");
                return Task.CompletedTask;
            }
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Refuse(context, StatusCodes.Status401Unauthorized, presented is null
                ? "An API key is required: send it as 'Authorization: Bearer <key>' or 'x-api-key'."
                : "The API key is not valid.");
        }
        var scope = context.GetEndpoint()?.Metadata.GetMetadata<RequiredScope>()?.Scope
                    ?? (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ? Scopes.Read : Scopes.Admin);
        if (!key.Scopes.Contains(scope))
            return Refuse(context, StatusCodes.Status403Forbidden, $"The key '{key.Name}' lacks the '{scope}' scope this request needs.");
        context.Items[KeyItem] = key;
        return next(context);
    }

    private static string? Presented(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return authorization[7..].Trim();
        var header = request.Headers["x-api-key"].ToString();
        return header.Length > 0 ? header.Trim() : null;
    }

    private static Task Refuse(HttpContext context, int status, string detail)
    {
        var problem = Api.Problems.Field(status == StatusCodes.Status401Unauthorized ? "Authorization" : "scope", detail, status);
        Api.ApiExceptionHandler.AddWireError(context, problem, unavailable: false);
        return problem.ExecuteAsync(context);
    }
}
