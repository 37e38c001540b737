namespace Kyros.Perf.Common;

public static class KyrosStorage
{
    /// <summary>The grain storage every Kyros.Perf grain uses: Redis in a cluster, memory when embedded.</summary>
    public const string Name = "kyros";
}
