using Kyros.Perf.Common;
namespace Kyros.Perf.Silo.Api;

/// <summary>The one shape of every API error: problem+json naming the offending field.</summary>
public static class Problems
{
    public static IResult Field(string? field, string detail, int status = StatusCodes.Status400BadRequest) =>
        Results.Problem(
            detail: detail,
            statusCode: status,
            title: status switch
            {
                StatusCodes.Status401Unauthorized => "Unauthorized",
                StatusCodes.Status403Forbidden => "Forbidden",
                StatusCodes.Status404NotFound => "Not found",
                StatusCodes.Status409Conflict => "Conflict",
                StatusCodes.Status412PreconditionFailed => "Precondition failed",
                StatusCodes.Status413PayloadTooLarge => "Request body too large",
                StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                StatusCodes.Status429TooManyRequests => "Too many requests",
                _ => "Invalid request",
            },
            extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });

    public static IResult From(ArgumentException exception, int status = StatusCodes.Status400BadRequest) =>
        Field(ArgumentErrors.FieldOf(exception), ArgumentErrors.DetailOf(exception), status);
}
