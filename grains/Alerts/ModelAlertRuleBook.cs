namespace Kyros.Perf.Alerts;

/// <summary>This silo's copy of the cluster's model alert rules, kept on the rules grain's version by <see cref="ModelAlertRulesSync"/>.</summary>
public sealed class ModelAlertRuleBook
{
    private volatile ModelAlertRulesSnapshot _current = new(0, ModelAlertRules.Default);

    public ModelAlertRulesSnapshot Current => _current;

    /// <summary>Takes a newer version; an older or equal one (a slow answer) changes nothing. True when taken.</summary>
    public bool Apply(ModelAlertRulesSnapshot snapshot)
    {
        while (true)
        {
            var current = _current;
            if (snapshot.Version <= current.Version) return false;
            if (Interlocked.CompareExchange(ref _current, snapshot, current) == current) return true;
        }
    }
}
