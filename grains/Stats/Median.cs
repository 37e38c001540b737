namespace Kyros.Perf.Stats;

/// <summary>The median of a handful of values: a router's candidates, a host's recent samples.</summary>
public static class Median
{
    /// <summary>The median; sorts <paramref name="values"/> in place; 0 for none.</summary>
    public static double Of(Span<double> values)
    {
        if (values.Length == 0) return 0;
        values.Sort();
        var mid = values.Length / 2;
        return values.Length % 2 == 1 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    }
}
