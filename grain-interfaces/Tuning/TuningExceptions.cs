namespace Kyros.Perf.Tuning;

/// <summary>No recommendation has this id (HTTP 404 naming <c>id</c>).</summary>
[GenerateSerializer, Alias("kyros.RecommendationNotFoundException")]
public sealed class RecommendationNotFoundException(string message) : Exception(message);

/// <summary>The recommendation is not in a state that allows the action (HTTP 409 naming <c>status</c>).</summary>
[GenerateSerializer, Alias("kyros.RecommendationStateException")]
public sealed class RecommendationStateException(string message) : Exception(message);
