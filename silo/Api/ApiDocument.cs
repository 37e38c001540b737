using System.Text.Json.Nodes;
using Kyros.Perf.Silo.Auth;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>): every endpoint with its parameters, the request and response shapes its
/// mapping declares, the errors every endpoint can answer (problem+json) and the API-key scope it needs
/// (<c>x-kyros-scope</c>, and the security requirement).
/// </summary>
public static class ApiDocument
{
    public const string Path = "/openapi/v1.json";
    public const string ReferencePath = "/docs/api";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) => services.AddOpenApi("v1", options =>
    {
        // The Orleans dashboard's own routes are its internals, not this API.
        options.ShouldInclude = description => description.RelativePath?.StartsWith("dashboard", StringComparison.Ordinal) != true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Kyros.Perf",
                Version = "v1",
                Description = "Model performance monitoring, routing and self-tuning over an Orleans cluster. Errors are problem+json with a `field`; " +
                              "with API keys configured, send `Authorization: Bearer <key>` with the scope each operation names in `x-kyros-scope`.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "An API key of Kyros:Auth:Keys (or the same key as x-api-key).",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var description = context.Description;
            var method = description.HttpMethod ?? "GET";
            var scope = description.ActionDescriptor.EndpointMetadata.OfType<RequiredScope>().FirstOrDefault()?.Scope
                        ?? (method is "GET" or "HEAD" ? Scopes.Read : Scopes.Admin);
            var open = description.RelativePath is "healthz" or "signin";
            operation.Extensions ??= new Dictionary<string, IOpenApiExtension>();
            operation.Extensions["x-kyros-scope"] = new JsonNodeExtension(JsonValue.Create(open ? "none" : scope));
            if (!open)
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", context.Document)] = [] }];
            operation.Responses ??= new OpenApiResponses();
            foreach (var (status, why) in Errors(method, open))
                operation.Responses.TryAdd(status, new OpenApiResponse
                {
                    Description = why,
                    Content = new Dictionary<string, OpenApiMediaType> { ["application/problem+json"] = new() },
                });
            // The body an endpoint reads itself (the API's one body reader) is declared here, not as routing metadata:
            // routing would then answer a wrong content type with a bare 415 instead of the endpoint's problem+json.
            if (description.ActionDescriptor.EndpointMetadata.OfType<DocumentedBody>().FirstOrDefault() is { } body && operation.RequestBody is null)
            {
                var content = new Dictionary<string, OpenApiMediaType>();
                foreach (var type in body.ContentTypes)
                    content[type] = new OpenApiMediaType { Schema = body.Type == typeof(byte[]) ? null : await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken) };
                operation.RequestBody = new OpenApiRequestBody { Required = true, Content = content };
            }
        });
    });

    /// <summary>Declares the body an endpoint reads (for the document only).</summary>
    public static RouteHandlerBuilder WithBody<T>(this RouteHandlerBuilder builder, params string[] contentTypes) =>
        builder.WithMetadata(new DocumentedBody(typeof(T), contentTypes));

    private static IEnumerable<(string Status, string Why)> Errors(string method, bool open)
    {
        yield return ("400", "Bad input: problem+json whose `field` names what is wrong; nothing changed.");
        if (!open)
        {
            yield return ("401", "No API key, or one that is not configured (with keys configured).");
            yield return ("403", "The key lacks the scope in x-kyros-scope.");
            yield return ("429", "The key is over its requests a minute; Retry-After says when to try again.");
        }
        yield return ("503", "A fault that passes (a silo gone, a store down or slow): try again after Retry-After.");
    }
}

/// <summary>The body an endpoint reads, for the OpenAPI document.</summary>
public sealed record DocumentedBody(Type Type, IReadOnlyList<string> ContentTypes);
