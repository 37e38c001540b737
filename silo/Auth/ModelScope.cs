using Kyros.Perf.Gateway;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// A key's models (<see cref="ApiKeys.Entry.Models"/>) on the gateway and routing endpoints: a model named (as the
/// model or among the candidates) that the key may not call is refused with 403 naming it, before anything is routed or
/// called; a request that leaves the choice to routing (<c>auto</c>, <c>kyros/&lt;strategy&gt;</c>, no candidates) routes
/// among the key's models only. A key without models, or no key, changes nothing.
/// </summary>
public static class ModelScope
{
    public static GenerateRequest Restrict(HttpContext context, GenerateRequest request)
    {
        if (Allowed(context) is not { } allowed) return request;
        if (request.Model is { } model) Require(context, allowed, model, "model");
        if (request.Candidates is { } candidates)
        {
            foreach (var candidate in candidates) Require(context, allowed, candidate, "available_models");
            return request;
        }
        return request.Model is null ? request with { Candidates = [.. allowed] } : request;
    }

    public static EmbedRequest Restrict(HttpContext context, EmbedRequest request)
    {
        if (Allowed(context) is not { } allowed) return request;
        if (request.Model is { } model) Require(context, allowed, model, "model");
        return request.Model is null ? request with { Candidates = [.. allowed] } : request;
    }

    public static RoutingRequest Restrict(HttpContext context, RoutingRequest request)
    {
        if (Allowed(context) is not { } allowed) return request;
        if (request.Candidates is not { } candidates) return request with { Candidates = [.. allowed] };
        foreach (var candidate in candidates) Require(context, allowed, candidate, "available_models");
        return request;
    }

    private static IReadOnlySet<string>? Allowed(HttpContext context) => ApiKeyMiddleware.KeyOf(context)?.Models;

    private static void Require(HttpContext context, IReadOnlySet<string> allowed, string model, string field)
    {
        if (!allowed.Contains(model))
            throw new ModelNotAllowedException(field, $"The key '{ApiKeyMiddleware.KeyNameOf(context)}' may not use model '{model}'; it may use {string.Join(", ", allowed.Order(StringComparer.Ordinal))}.");
    }
}

/// <summary>A model the caller's key may not use: 403 naming the field (<c>model</c> or <c>available_models</c>).</summary>
public sealed class ModelNotAllowedException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
