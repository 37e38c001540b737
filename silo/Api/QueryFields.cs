using System.Globalization;

namespace Kyros.Perf.Silo.Api;

/// <summary>Reads query-string parameters; a value of the wrong kind throws an ArgumentException naming the parameter.</summary>
public static class QueryFields
{
    public static double? Double(IQueryCollection q, string name) => q[name].FirstOrDefault() is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new ArgumentException($"{name} '{text}' is not a number.", name)
        : null;

    public static long? Long(IQueryCollection q, string name) => q[name].FirstOrDefault() is { } text
        ? long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new ArgumentException($"{name} '{text}' is not a whole number.", name)
        : null;

    public static int? Int(IQueryCollection q, string name) => Long(q, name) is { } value
        ? value is >= int.MinValue and <= int.MaxValue ? (int)value : throw new ArgumentException($"{name} {value} is out of range.", name)
        : null;

    /// <summary><c>true</c>, <c>1</c> or a bare <c>?name</c> are true; <c>false</c> and <c>0</c> are false.</summary>
    public static bool? Bool(IQueryCollection q, string name) => q[name].FirstOrDefault() is { } text
        ? text switch { "true" or "1" or "" => true, "false" or "0" => false, _ => throw new ArgumentException($"{name} '{text}' is not true or false.", name) }
        : null;

    /// <summary>An ISO 8601 date and time, taken as UTC when it names no offset.</summary>
    public static DateTimeOffset Time(string text, string name) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new ArgumentException($"{name} '{text}' is not an ISO 8601 date and time.", name);

    public static DateTimeOffset? Time(IQueryCollection q, string name) => q[name].FirstOrDefault() is { } text ? Time(text, name) : null;
}
