using System.Text.RegularExpressions;

namespace Kyros.Perf.Common;

/// <summary>
/// Reads the field out of an <see cref="ArgumentException"/>. Orleans carries a grain's exception to the caller
/// with its message but without <see cref="ArgumentException.ParamName"/>, so the name is read back from the message.
/// </summary>
public static partial class ArgumentErrors
{
    public static string? FieldOf(ArgumentException exception) =>
        exception.ParamName ?? (ParameterSuffix().Match(exception.Message) is { Success: true } m ? m.Groups[1].Value : null);

    /// <summary>The message without the "(Parameter 'x')" suffix that .NET appends.</summary>
    public static string DetailOf(ArgumentException exception) => ParameterSuffix().Replace(exception.Message, "").TrimEnd();

    /// <summary>The same error with its field restored as <see cref="ArgumentException.ParamName"/>.</summary>
    public static ArgumentException Restore(ArgumentException exception) =>
        exception.ParamName is not null ? exception : new ArgumentException(DetailOf(exception), FieldOf(exception), exception);

    [GeneratedRegex(@"\s*\(Parameter '([^']*)'\)\s*$")]
    private static partial Regex ParameterSuffix();
}
