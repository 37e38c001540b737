using System.Threading.RateLimiting;
using Kyros.Perf.Silo.Api;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Auth;

/// <summary>The API keys' part of the host: the keys checked at start, the middleware, and per-key rate limits.</summary>
public static class ApiKeyServices
{
    /// <summary>
    /// Reads and checks <c>Kyros:Auth</c> (without keys, listening beyond loopback needs <c>AllowAnonymous</c>; a bad setting
    /// throws <see cref="OptionsValidationException"/>, which stops the silo with exit code 2) and registers the keys.
    /// </summary>
    public static AuthOptions AddApiKeys(this IServiceCollection services, IConfiguration configuration, IEnumerable<string> urls)
    {
        var auth = new AuthOptions();
        configuration.GetSection(AuthOptions.Section).Bind(auth);
        var result = new AuthOptionsValidator().Validate(null, auth);
        var failures = result.Failed ? result.Failures.ToList() : [];
        if (AuthOptionsValidator.RefuseOpenListening(auth, urls) is { } refusal) failures.Add(refusal);
        if (failures.Count == 0) failures.AddRange(AuthOptionsValidator.RefuseWeakKeys(auth, urls));
        if (failures.Count > 0) throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), failures);
        services.AddSingleton(Options.Create(auth));
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<SignInThrottle>();
        if (auth.Enabled) services.AddRateLimiter(Limit);
        if (auth.TrustedProxies.Count > 0) services.Configure<ForwardedHeadersOptions>(forwarded => TrustOnly(forwarded, auth.TrustedProxies));
        return auth;
    }

    /// <summary>Believes <c>X-Forwarded-For</c> and <c>-Proto</c> from the named proxies only (ASP.NET's default, loopback, is dropped).</summary>
    private static void TrustOnly(ForwardedHeadersOptions forwarded, IEnumerable<string> proxies)
    {
        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var proxy in proxies)
        {
            if (System.Net.IPAddress.TryParse(proxy, out var address)) forwarded.KnownProxies.Add(address);
            else forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
        }
    }

    /// <summary>The key check after routing (it reads the endpoint's scope), then the rate limits when any key has one.</summary>
    public static void UseApiKeys(this WebApplication app, AuthOptions auth, IEnumerable<string> urls)
    {
        if (!auth.Enabled)
            app.Logger.LogWarning("No API keys are configured (Kyros:Auth:Keys): the HTTP API serves anyone who reaches {Urls}", string.Join(", ", urls));
        // First: every later step (the key check, the throttle, the cookie's Secure flag) sees the proxy's client and scheme.
        if (auth.TrustedProxies.Count > 0) app.UseForwardedHeaders();
        app.UseRouting();
        app.UseMiddleware<ApiKeyMiddleware>();
        // Without keys the limiter is not in the pipeline: recording and routing pay nothing for it. With keys it is, since
        // a run-time key may get a limit at any time; a key without one costs a dictionary lookup.
        if (auth.Enabled) app.UseRateLimiter();
    }

    /// <summary>
    /// Each key's requests a minute, counted on this silo (a cluster of n silos lets a key make up to n times as many).
    /// The partition is the key's name and its limit, so a run-time key whose limit changes starts a window at the new one.
    /// </summary>
    private static void Limit(RateLimiterOptions limits)
    {
        limits.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            ApiKeyMiddleware.KeyOf(context) is { RequestsPerMinute: { } perMinute } key
                ? RateLimitPartition.GetFixedWindowLimiter($"{key.Name}/{perMinute}", _ => new FixedWindowRateLimiterOptions { PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 })
                : RateLimitPartition.GetNoLimiter(""));
        limits.OnRejected = (rejected, _) =>
        {
            var wait = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
            rejected.HttpContext.Response.Headers.RetryAfter = $"{Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds))}";
            var key = ApiKeyMiddleware.KeyOf(rejected.HttpContext)!;
            var problem = Problems.Field("Authorization", $"The key '{key.Name}' is over its {key.RequestsPerMinute} requests a minute.", StatusCodes.Status429TooManyRequests);
            ApiExceptionHandler.AddWireError(rejected.HttpContext, problem, unavailable: false);
            return new ValueTask(problem.ExecuteAsync(rejected.HttpContext));
        };
    }
}
