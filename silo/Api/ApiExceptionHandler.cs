using System.Text.Json;
using Kyros.Perf.Common;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// Turns bad input that surfaces as an exception (from a grain, the body reader or Kestrel) into problem+json, and a
/// fault that passes into 503 with <c>Retry-After</c>. Only a real bug is a 500, logged with its trace id.
/// </summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        // The client went away: nobody to answer, nothing to log as an error.
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested) return true;
        var unavailable = Unavailable(exception);
        var result = exception switch
        {
            ArgumentException argument => Problems.From(argument),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                Problems.Field("body", $"The body is larger than {PerformanceEndpoints.MaxBodyBytes / (1024 * 1024)} MiB.", StatusCodes.Status413PayloadTooLarge),
            BadHttpRequestException bad => Problems.Field("body", bad.Message, bad.StatusCode),
            JsonException json => Problems.Field("body", $"The body is not valid JSON: {json.Message}"),
            // Temporary: every candidate is cooling down or at its rate limit, so the same request can pass shortly.
            Routing.NoCandidateException none => Results.Problem(title: none.Temporary ? "No candidate available now" : "No candidate passes the filters",
                detail: none.Message, statusCode: none.Temporary ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status422UnprocessableEntity,
                extensions: new Dictionary<string, object?> { ["field"] = "available_models", ["rejected"] = none.Rejected }),
            Catalog.CatalogModelNotFoundException missing => Problems.Field("id", missing.Message, StatusCodes.Status404NotFound),
            Catalog.CatalogModelExistsException exists => Problems.Field("id", exists.Message, StatusCodes.Status409Conflict),
            Catalog.CatalogRevisionException stale => Problems.Field("If-Match", stale.Message, StatusCodes.Status412PreconditionFailed),
            Catalog.ModelRemovedException removed => Problems.Field("model", removed.Message, StatusCodes.Status404NotFound),
            Auth.ModelNotAllowedException notAllowed => Problems.Field(notAllowed.Field, notAllowed.Message, StatusCodes.Status403Forbidden),
            Keys.ApiKeyNotFoundException unknownKey => Problems.Field("id", unknownKey.Message, StatusCodes.Status404NotFound),
            Keys.ApiKeyNameTakenException taken => Problems.Field("name", taken.Message, StatusCodes.Status409Conflict),
            // Over the key's budget or its requests or tokens a minute: the wait, when known, in Retry-After.
            Keys.KeyLimitException { Code: Keys.KeyRefusals.Revoked } revoked => Problems.Field("Authorization", revoked.Message, StatusCodes.Status401Unauthorized),
            Keys.KeyLimitException limit => Results.Problem(title: limit.Code == Keys.KeyRefusals.BudgetExceeded ? "Budget exceeded" : "Rate limit exceeded",
                detail: limit.Message, statusCode: StatusCodes.Status429TooManyRequests,
                extensions: new Dictionary<string, object?> { ["field"] = "Authorization", ["code"] = limit.Code }),
            Keys.ApiKeyRevisionException staleKey => Problems.Field("If-Match", staleKey.Message, StatusCodes.Status412PreconditionFailed),
            ModelNotFoundException missing => Problems.Field("model", missing.Message, StatusCodes.Status404NotFound),
            Benchmarking.BenchmarkNotFoundException unknownRun => Problems.Field("id", unknownRun.Message, StatusCodes.Status404NotFound),
            Tuning.RecommendationNotFoundException unknown => Problems.Field("id", unknown.Message, StatusCodes.Status404NotFound),
            Tuning.RecommendationStateException state => Problems.Field("status", state.Message, StatusCodes.Status409Conflict),
            Gateway.GenerationFailedException failed => Results.Problem(title: failed.Status < 500 ? "The model refused the request" : "The model call failed",
                detail: failed.Message, statusCode: failed.Status, extensions: new Dictionary<string, object?> { ["attempts"] = failed.Attempts }),
            // A silo gone, a message rejected or timed out, a store down or hung: it passes, so the caller may try again.
            _ when unavailable is not null => Results.Problem(title: "Service unavailable", detail: unavailable.Message,
                statusCode: StatusCodes.Status503ServiceUnavailable, extensions: new Dictionary<string, object?> { ["retryable"] = true }),
            _ => null,
        };
        if (result is null)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path} (trace {TraceId})", context.Request.Method, context.Request.Path, context.TraceIdentifier);
            result = Results.Problem(title: "Internal error", detail: $"The request failed on the server; see the silo log for trace {context.TraceIdentifier}.",
                statusCode: 500, extensions: new Dictionary<string, object?> { ["trace_id"] = context.TraceIdentifier });
        }
        if (exception is Routing.NoCandidateException { Temporary: true } || unavailable is not null)
            context.Response.Headers.RetryAfter = $"{KyrosUnavailableException.RetryAfterSeconds}";
        if (exception is Keys.KeyLimitException { RetryAfter: { } wait })
            context.Response.Headers.RetryAfter = $"{(long)Math.Ceiling(wait.TotalSeconds)}";
        AddWireError(context, result, unavailable: unavailable is not null);
        await result.ExecuteAsync(context);
        return true;
    }

    /// <summary>The fault as one that passes, when it is one: an Orleans or store fault (a store read outside any grain included).</summary>
    private static KyrosUnavailableException? Unavailable(Exception exception) =>
        TransientFaults.IsTransient(exception) ? TransientFaults.Describe(exception) : StoreFaultFilter.Unavailable(exception);

    /// <summary>
    /// On the endpoints that speak a vendor's wire format, the problem also carries that vendor's error object, so its
    /// SDK shows our message: OpenAI's on chat completions, Anthropic's on messages.
    /// </summary>
    public static void AddWireError(HttpContext context, IResult result, bool unavailable)
    {
        if (result is not ProblemHttpResult { ProblemDetails: var problem }) return;
        if (context.Request.Path.StartsWithSegments(ChatCompletionsEndpoint.Path) || context.Request.Path.StartsWithSegments(EmbeddingsEndpoint.Path))
            AddOpenAiError(problem, unavailable);
        else if (context.Request.Path.StartsWithSegments(MessagesEndpoint.Path)) MessagesEndpoint.AddAnthropicError(problem, unavailable);
    }

    /// <summary>OpenAI's clients read <c>error.message</c>.</summary>
    private static void AddOpenAiError(Microsoft.AspNetCore.Mvc.ProblemDetails problem, bool unavailable)
    {
        // A key's refusal names its own code (budget_exceeded, rate_limit_exceeded); OpenAI calls a spent budget a quota.
        var code = problem.Extensions.TryGetValue("code", out var given) ? given as string : null;
        problem.Extensions["error"] = new Dictionary<string, object?>
        {
            ["message"] = problem.Detail,
            ["type"] = problem.Status >= 500 ? "server_error" : code == Keys.KeyRefusals.BudgetExceeded ? "insufficient_quota" : "invalid_request_error",
            ["param"] = problem.Extensions.TryGetValue("field", out var field) ? field : null,
            ["code"] = unavailable ? "service_unavailable" : code ?? problem.Status switch
            {
                401 => "invalid_api_key", 403 => "insufficient_permissions", 404 => "model_not_found", 429 or 503 => "rate_limit_exceeded", _ => null,
            },
        };
    }
}
