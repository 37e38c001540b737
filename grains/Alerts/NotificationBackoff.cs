namespace Kyros.Perf.Alerts;

/// <summary>The wait before the next try at a failing target: the base delay doubled with each failure in a row, capped.</summary>
public static class NotificationBackoff
{
    public static TimeSpan After(int failuresInARow, TimeSpan baseDelay, TimeSpan max)
    {
        if (failuresInARow < 1) return TimeSpan.Zero;
        // 2^30 of any base is past any cap: the shift stays in range.
        var factor = 1L << Math.Min(failuresInARow - 1, 30);
        var ticks = baseDelay.Ticks > max.Ticks / factor ? max.Ticks : baseDelay.Ticks * factor;
        return TimeSpan.FromTicks(Math.Min(ticks, max.Ticks));
    }
}
