using Kyros.Perf.Common;

namespace Kyros.Perf.Tuning;

internal static class TuningText
{
    /// <summary>A window as the rest of the product writes it (<c>90m</c>, <c>2h</c>).</summary>
    public static string Window(TimeSpan window) => TimeWindow.Format(TimeSpan.FromMinutes(Math.Max(1, Math.Round(window.TotalMinutes))));
}
