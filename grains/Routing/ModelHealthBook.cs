namespace Kyros.Perf.Routing;

/// <summary>
/// Which models a silo's router may use now. A failing model is cooled down (skipped) for a while, then probed with a
/// share of traffic until one of its requests succeeds. Thread-safe; one per silo.
/// </summary>
public sealed class ModelHealthBook(RoutingOptions options)
{
    // Written by the snapshot refresh (twice a second), read by every decision: readers take no lock.
    private volatile Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private volatile bool _allHealthy = true;
    private readonly Lock _write = new();

    /// <summary>No model is cooling down or probed: a decision may skip the per-model look-ups.</summary>
    public bool AllHealthy => _allHealthy;

    /// <summary>Moves a model's state on from its latest statistics.</summary>
    public void Observe(ModelRoutingStats stats, DateTimeOffset now)
    {
        lock (_write)
        {
            var state = _states.GetValueOrDefault(stats.Model) ?? State.Healthy;
            var next = state.Kind switch
            {
                Kind.Healthy when Failing(stats, now - state.Since < RecentWindow) is { } reason => State.Cooling(now + options.CooldownPeriod, reason),
                Kind.Cooling when now >= state.Until => State.Probing(now, stats.ConsecutiveFailures, stats.SuccessesApplied, state.Reason),
                Kind.Probing when stats.SuccessesApplied != state.SuccessesAtStart && stats.ConsecutiveFailures == 0 => State.RecoveredAt(now),
                Kind.Probing when stats.ConsecutiveFailures > state.FailuresAtStart =>
                    State.Cooling(now + options.CooldownPeriod, $"failed again while probed ({stats.ConsecutiveFailures} consecutive failures)"),
                _ => state,
            };
            if (ReferenceEquals(next, state)) return;
            var states = new Dictionary<string, State>(_states, StringComparer.Ordinal) { [stats.Model] = next };
            _states = states;
            _allHealthy = states.Values.All(s => s.Kind == Kind.Healthy);
        }
    }

    /// <summary>Whether the model may take this decision; <paramref name="draw"/> is uniform in [0, 1).</summary>
    public (bool Admitted, ModelHealth Health, string? Reason) Admit(string model, DateTimeOffset now, double draw) => Describe(model, now) switch
    {
        (ModelHealth.CoolingDown, var reason, { } until) => (false, ModelHealth.CoolingDown, $"cooling down until {until:HH:mm:ss} ({reason})"),
        (ModelHealth.Probing, _, _) when draw < options.ProbeShare => (true, ModelHealth.Probing, null),
        (ModelHealth.Probing, var reason, _) => (false, ModelHealth.Probing, $"recovering from {reason}: probed with {options.ProbeShare:P0} of decisions until it succeeds"),
        _ => (true, ModelHealth.Healthy, null),
    };

    /// <summary>The model's state for an operator: cooling down (until when), probed, or healthy; with the reason.</summary>
    public (ModelHealth Health, string? Reason, DateTimeOffset? Until) Describe(string model, DateTimeOffset now)
    {
        var state = _states.GetValueOrDefault(model) ?? State.Healthy;
        return state.Kind switch
        {
            Kind.Cooling when now < state.Until => (ModelHealth.CoolingDown, state.Reason, state.Until),
            Kind.Cooling or Kind.Probing => (ModelHealth.Probing, state.Reason, null),
            _ => (ModelHealth.Healthy, null, null),
        };
    }

    /// <summary>The window the published error rate covers: after a recovery, only consecutive failures count until it has passed.</summary>
    private static readonly TimeSpan RecentWindow = TimeSpan.FromMinutes(5);

    private string? Failing(ModelRoutingStats stats, bool recentlyRecovered)
    {
        if (stats.ConsecutiveFailures >= options.CooldownAfterFailures) return $"{stats.ConsecutiveFailures} consecutive failures";
        if (!recentlyRecovered && stats.Samples >= 20 && stats.ConsecutiveFailures > 0 && stats.ErrorRate >= options.CooldownErrorRate)
            return $"error rate {stats.ErrorRate:P0} over {stats.Samples} requests";
        return null;
    }

    private enum Kind { Healthy, Cooling, Probing }

    private sealed record State(Kind Kind, DateTimeOffset Until, DateTimeOffset Since, int FailuresAtStart, long SuccessesAtStart, string Reason)
    {
        public static readonly State Healthy = new(Kind.Healthy, default, DateTimeOffset.MinValue, 0, 0, "");
        public static State RecoveredAt(DateTimeOffset since) => new(Kind.Healthy, default, since, 0, 0, "");
        public static State Cooling(DateTimeOffset until, string reason) => new(Kind.Cooling, until, default, 0, 0, reason);
        public static State Probing(DateTimeOffset since, int failures, long successes, string reason) => new(Kind.Probing, default, since, failures, successes, reason);
    }
}
