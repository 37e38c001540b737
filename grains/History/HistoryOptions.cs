using Microsoft.Extensions.Options;

namespace Kyros.Perf.History;

/// <summary>Long-term history in SQLite (configuration section <c>Kyros:History</c>).</summary>
public sealed class HistoryOptions
{
    public const string Section = "Kyros:History";

    /// <summary>The SQLite file; relative paths are under the working directory.</summary>
    public string DatabasePath { get; set; } = "data/history.db";

    public TimeSpan MinuteRetention { get; set; } = TimeSpan.FromDays(7);

    public TimeSpan HourRetention { get; set; } = TimeSpan.FromDays(365);

    /// <summary>Roll-ups written in one transaction at most.</summary>
    public int MaxBatchRows { get; set; } = 2000;
}

public sealed class HistoryOptionsValidator : IValidateOptions<HistoryOptions>
{
    public ValidateOptionsResult Validate(string? name, HistoryOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DatabasePath)) errors.Add($"{HistoryOptions.Section}:DatabasePath must not be empty.");
        if (options.MinuteRetention < TimeSpan.FromDays(1)) errors.Add($"{HistoryOptions.Section}:MinuteRetention must be at least 1 day.");
        if (options.HourRetention < options.MinuteRetention) errors.Add($"{HistoryOptions.Section}:HourRetention must be at least MinuteRetention.");
        if (options.MaxBatchRows is < 1 or > 100_000) errors.Add($"{HistoryOptions.Section}:MaxBatchRows must be within 1..100000.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
