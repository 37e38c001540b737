namespace Kyros.Perf.Routing;

/// <summary>The rules for a routing request, shared by the SDK, the HTTP API and the router; fields named as in JSON.</summary>
public static class RoutingValidator
{
    public const long MaxTokens = 100_000_000;
    public const int MaxPromptChars = 4_000_000;
    [ThreadStatic] private static HashSet<string>? t_seen;

    /// <param name="featuresPrefix">How the features' fields are named: nested in a JSON body, or bare as query parameters.</param>
    /// <param name="checkCandidateNames">False where the caller checks each name itself as it looks it up (the router), so no name is hashed twice.</param>
    public static void Validate(RoutingRequest? request, string featuresPrefix = "request_features.", bool checkCandidateNames = true)
    {
        var p = featuresPrefix;
        if (request is null) throw new ArgumentException("request is required.", "request");
        if (!Enum.IsDefined(request.Strategy)) throw new ArgumentException($"strategy {(int)request.Strategy} is not a strategy.", "strategy");
        var f = request.Features ?? throw new ArgumentException("request_features is required.", "request_features");
        Unit(f.CreativityRequirement, p + "creativity_requirement");
        Unit(f.ReasoningRequirement, p + "reasoning_requirement");
        if (f.EstimatedTokens is < 0 or > MaxTokens)
            throw new ArgumentException($"{p}estimated_tokens must be within 0..{MaxTokens}; got {f.EstimatedTokens}.", p + "estimated_tokens");
        // An embedding has no output: 0 is its budget.
        var leastOutput = f.Kind == Catalog.ModelKinds.Embedding ? 0 : 1;
        if (f.OutputTokens < leastOutput || f.OutputTokens > MaxTokens)
            throw new ArgumentException($"{p}output_tokens must be within {leastOutput}..{MaxTokens}; got {f.OutputTokens}.", p + "output_tokens");
        if (f.MaxLatency is { } latency && !(double.IsFinite(latency) && latency > 0))
            throw new ArgumentException($"{p}max_latency must be a positive number of seconds; got {latency}.", p + "max_latency");
        if (f.MaxCost is { } cost && !(double.IsFinite(cost) && cost >= 0))
            throw new ArgumentException($"{p}max_cost must be a finite, non-negative number; got {cost}.", p + "max_cost");
        if (f.Prompt is { Length: > MaxPromptChars })
            throw new ArgumentException($"{p}prompt is longer than {MaxPromptChars} characters.", p + "prompt");
        if (request.Candidates is { } candidates)
        {
            if (candidates.Count == 0) throw new ArgumentException("available_models must name at least one model when given.", "available_models");
            if (checkCandidateNames) CheckCandidateNames(candidates);
        }
    }

    /// <summary>Refuses an empty name, or one that appears twice, naming the first such entry.</summary>
    public static void CheckCandidateNames(IReadOnlyList<string> candidates)
    {
        // A thread's set is reused, as every routed request passes here; the set of a very long list is not kept.
        var seen = t_seen ??= new HashSet<string>(StringComparer.Ordinal);
        try
        {
            for (var i = 0; i < candidates.Count; i++)
            {
                if (string.IsNullOrWhiteSpace(candidates[i])) throw new ArgumentException($"available_models[{i}] is empty.", $"available_models[{i}]");
                if (!seen.Add(candidates[i])) throw new ArgumentException($"available_models[{i}] '{candidates[i]}' appears twice.", $"available_models[{i}]");
            }
        }
        finally
        {
            seen.Clear();
            if (candidates.Count > 1_024) t_seen = null;
        }
    }

    /// <summary>The most requests one <see cref="IRouterGrain.SelectModelsAsync"/> call may carry.</summary>
    public const int MaxBatch = 1_000;

    /// <summary>The batch itself; each request is checked as it is decided, so one bad request fails only itself.</summary>
    public static void ValidateBatch(RoutingRequest[]? requests)
    {
        if (requests is null || requests.Length == 0) throw new ArgumentException("requests must hold at least one request.", "requests");
        if (requests.Length > MaxBatch) throw new ArgumentException($"requests may hold at most {MaxBatch}; got {requests.Length}.", "requests");
    }

    /// <summary>A settlement's token counts: what was reserved and what the request used.</summary>
    public static void ValidateSettlement(long reservedTokens, long actualTokens)
    {
        if (reservedTokens is < 0 or > MaxTokens)
            throw new ArgumentException($"reserved_tokens must be within 0..{MaxTokens}.", "reserved_tokens");
        if (actualTokens is < 0 or > MaxTokens)
            throw new ArgumentException($"actual_tokens must be within 0..{MaxTokens}.", "actual_tokens");
    }

    public static void ValidateTopN(int topN, int candidates)
    {
        if (topN < 1 || topN > candidates)
            throw new ArgumentException($"top_n must be within 1..{candidates} (the number of candidates); got {topN}.", "top_n");
    }

    private static void Unit(double value, string field)
    {
        if (!(value >= 0 && value <= 1)) throw new ArgumentException($"{field} must be within 0..1; got {value}.", field);
    }
}
