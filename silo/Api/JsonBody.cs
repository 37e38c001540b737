using System.Text.Json;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// The one way an endpoint reads a JSON body: parse it into a document here, then read its fields with
/// <see cref="JsonFields"/> (or a reader built on it, such as <see cref="RecordJsonReader"/>). Every failure is an
/// <see cref="ArgumentException"/> naming the field, which <see cref="ApiExceptionHandler"/> answers as problem+json.
/// </summary>
public static class JsonBody
{
    public static async Task<JsonDocument> ReadAsync(HttpRequest request)
    {
        try
        {
            return await JsonDocument.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The body is not valid JSON: {e.Message}", "body");
        }
    }
}
