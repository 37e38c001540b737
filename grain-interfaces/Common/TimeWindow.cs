using System.Globalization;

namespace Kyros.Perf.Common;

/// <summary>
/// Summary windows: whole minutes from 1 minute to <see cref="Max"/>, written <c>15m</c>, <c>1h</c>, <c>24h</c>.
/// A window of N minutes covers the current minute and the N-1 before it.
/// </summary>
public static class TimeWindow
{
    public static readonly TimeSpan Min = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan Max = TimeSpan.FromHours(24);

    /// <summary>Parses an optional window: <paramref name="fallback"/> when none is given.</summary>
    public static TimeSpan ParseOr(string? text, TimeSpan fallback, string field = "window") => text is null ? fallback : Parse(text, field);

    public static TimeSpan Parse(string? text, string field = "window")
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new ArgumentException($"{field} is required, for example 5m, 1h or 24h.", field);
        var unit = text[^1];
        var multiplier = unit switch { 'm' => 1, 'h' => 60, 'd' => 1440, _ => 0 };
        if (multiplier == 0 || !int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n > 1_000_000)
            throw new ArgumentException($"{field} '{Truncate(text)}' is not a window: use a whole number of minutes, hours or days such as 5m, 1h or 1d.", field);
        var window = TimeSpan.FromMinutes((long)n * multiplier);
        Validate(window, field);
        return window;
    }

    /// <summary>Whole minutes from <see cref="Min"/> to <see cref="Max"/>.</summary>
    public static bool IsValid(TimeSpan window) => window >= Min && window <= Max && window.Ticks % TimeSpan.TicksPerMinute == 0;

    public static void Validate(TimeSpan window, string field = "window")
    {
        if (!IsValid(window))
            throw new ArgumentException($"{field} must be whole minutes from 1m to 24h; got {Format(window)}.", field);
    }

    /// <summary>The window's first instant (a minute boundary) for a summary taken at <paramref name="now"/>.</summary>
    public static DateTimeOffset StartAt(DateTimeOffset now, TimeSpan window)
    {
        var minuteStart = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero);
        return minuteStart - window + Min;
    }

    public static string Format(TimeSpan window)
    {
        if (window.Ticks % TimeSpan.TicksPerMinute != 0) return window.ToString("c", CultureInfo.InvariantCulture);
        var minutes = (long)window.TotalMinutes;
        if (minutes != 0 && minutes % 1440 == 0 && minutes > 1440) return $"{minutes / 1440}d";
        return minutes != 0 && minutes % 60 == 0 ? $"{minutes / 60}h" : $"{minutes}m";
    }

    private static string Truncate(string text) => text.Length <= 32 ? text : text[..32] + "…";
}
