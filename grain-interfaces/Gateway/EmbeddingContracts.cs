using Kyros.Perf.Routing;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Texts to embed, and how to pick the model: a strategy over the catalog's embedding models, or one model by id
/// (then there is no fallback to others).
/// </summary>
[GenerateSerializer, Immutable, Alias("kyros.EmbedRequest")]
public sealed record EmbedRequest
{
    /// <summary>The texts, each embedded on its own: one vector each, in this order.</summary>
    [Id(0)] public required IReadOnlyList<string> Inputs { get; init; }
    [Id(1)] public RoutingStrategy Strategy { get; init; } = RoutingStrategy.Balanced;
    /// <summary>A catalog embedding model to use instead of routing.</summary>
    [Id(2)] public string? Model { get; init; }
    /// <summary>The vectors' length; null takes the model's own.</summary>
    [Id(3)] public int? Dimensions { get; init; }
    /// <summary>The end user, as the caller names them (passed on to the provider).</summary>
    [Id(4)] public string? User { get; init; }
    /// <summary>Candidate models for routing (those an API key may use); null is every embedding model.</summary>
    [Id(5)] public IReadOnlyList<string>? Candidates { get; init; }
}

/// <summary>One vector per input, in the request's order, with the decision that chose the model and what the call cost.</summary>
[GenerateSerializer, Immutable, Alias("kyros.EmbedResult")]
public sealed record EmbedResult
{
    [Id(0)] public required string RequestId { get; init; }
    [Id(1)] public required string Model { get; init; }
    [Id(2)] public required IReadOnlyList<float[]> Vectors { get; init; }
    [Id(3)] public required RoutingDecision Decision { get; init; }
    /// <summary>Input tokens only: an embedding has no output tokens.</summary>
    [Id(4)] public required TokenUsage Usage { get; init; }
    [Id(5)] public required double LatencySeconds { get; init; }
    [Id(6)] public required double Cost { get; init; }
    [Id(7)] public required IReadOnlyList<Attempt> Attempts { get; init; }
    /// <summary>True when the vectors came from the simulated provider, not a real model.</summary>
    [Id(8)] public required bool Simulated { get; init; }
}

/// <summary>The rules for an embedding request that need no catalog, shared by the SDK and the silo; errors name the field as JSON spells it.</summary>
public static class EmbeddingValidator
{
    /// <summary>OpenAI's limit on the inputs of one request.</summary>
    public const int MaxInputs = 2048;
    public const int MaxDimensions = 65_536;

    public static void Validate(EmbedRequest? request)
    {
        if (request is null) throw new ArgumentException("The request is required.", "body");
        if (request.Inputs is not { } inputs) throw new ArgumentException("input is required: a string or an array of strings.", "input");
        if (inputs.Count == 0) throw new ArgumentException("input must hold at least one text.", "input");
        if (inputs.Count > MaxInputs) throw new ArgumentException($"input holds {inputs.Count} texts; at most {MaxInputs}.", "input");
        for (var i = 0; i < inputs.Count; i++)
            if (string.IsNullOrEmpty(inputs[i])) throw new ArgumentException($"input[{i}] is empty; every input must hold text.", inputs.Count == 1 ? "input" : $"input[{i}]");
        if (request.Dimensions is { } dimensions) Dimensions(dimensions, "dimensions");
        if (request.User is { Length: 0 or > 256 }) throw new ArgumentException("user must be 1-256 characters.", "user");
    }

    /// <summary>A vector length read as a whole number (JSON, a command line), or the error naming <paramref name="field"/>.</summary>
    public static int Dimensions(long value, string field) =>
        value is < 1 or > MaxDimensions ? throw new ArgumentException($"{field} must be within 1..{MaxDimensions}; got {value}.", field) : (int)value;
}
