using System.Text.Json;
using Kyros.Perf.Models;
using Microsoft.AspNetCore.Diagnostics;

namespace Kyros.Perf.Silo.Api;

/// <summary>Turns bad input that surfaces as an exception (from a grain, the body reader or Kestrel) into problem+json.</summary>
public sealed class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var result = exception switch
        {
            ArgumentException argument => Problems.From(argument),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
                Problems.Field("body", $"The body is larger than {PerformanceEndpoints.MaxBodyBytes / (1024 * 1024)} MiB.", StatusCodes.Status413PayloadTooLarge),
            BadHttpRequestException bad => Problems.Field("body", bad.Message, bad.StatusCode),
            JsonException json => Problems.Field("body", $"The body is not valid JSON: {json.Message}"),
            StoreUnavailableException store => Results.Problem(title: "Store unavailable", detail: store.Message, statusCode: StatusCodes.Status503ServiceUnavailable),
            _ => null,
        };
        if (result is null)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path}", context.Request.Method, context.Request.Path);
            result = Results.Problem(title: "Internal error", detail: "The request failed on the server; see the silo log.", statusCode: 500);
        }
        await result.ExecuteAsync(context);
        return true;
    }
}
