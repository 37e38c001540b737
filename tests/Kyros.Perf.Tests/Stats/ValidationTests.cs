using Kyros.Perf.Common;
using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Stats;

public sealed class ValidationTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, Func<ModelPerformanceRecord, ModelPerformanceRecord>> BadRecords => new()
    {
        { "execution_time", r => r with { ExecutionTime = -0.1 } },
        { "execution_time", r => r with { ExecutionTime = double.NaN } },
        { "execution_time", r => r with { ExecutionTime = double.PositiveInfinity } },
        { "time_to_first_token", r => r with { TimeToFirstToken = -1 } },
        { "time_to_first_token", r => r with { ExecutionTime = 1, TimeToFirstToken = 1.5 } },
        { "input_tokens", r => r with { InputTokens = -1 } },
        { "output_tokens", r => r with { OutputTokens = -5 } },
        { "cost", r => r with { Cost = -0.01 } },
        { "cost", r => r with { Cost = double.NaN } },
        { "cost", r => r with { Cost = 2e6 } },
        { "input_tokens", r => r with { InputTokens = 2_000_000_000 } },
        { "output_tokens", r => r with { OutputTokens = long.MaxValue } },
        { "quality_score", r => r with { QualityScore = 1.01 } },
        { "quality_score", r => r with { QualityScore = -0.5 } },
        { "model", r => r with { Model = "" } },
        { "model", r => r with { Model = "  " } },
        { "request_id", r => r with { RequestId = "" } },
        { "timestamp", r => r with { Timestamp = Now.AddMinutes(5).AddSeconds(1) } },
        { "timestamp", r => r with { Timestamp = Now.AddHours(-25) } },
        { "error_kind", r => r with { Success = true, ErrorKind = "timeout" } },
        { "error_kind", r => r with { Success = false, ErrorKind = "Time Out!" } },
    };

    [Theory]
    [MemberData(nameof(BadRecords))]
    public void A_bad_record_is_refused_naming_its_json_field(string field, Func<ModelPerformanceRecord, ModelPerformanceRecord> spoil)
    {
        var error = Assert.Throws<ArgumentException>(() => RecordValidator.Validate(spoil(Records.Valid(at: Now)), Now));
        Assert.Equal(field, error.ParamName);
    }

    [Fact]
    public void Valid_edges_pass()
    {
        RecordValidator.Validate(Records.Valid(at: Now.AddMinutes(5)) with { ExecutionTime = 0, TimeToFirstToken = 0, QualityScore = 1, Cost = 0 }, Now);
        RecordValidator.Validate(Records.Valid(at: Now) with { Success = false, ErrorKind = null, QualityScore = null, TimeToFirstToken = null }, Now);
    }

    [Fact]
    public void A_batch_names_the_index_of_its_bad_record_and_bounds_its_size()
    {
        var batch = new[] { Records.Valid(at: Now), Records.Valid(at: Now) with { Cost = -1 } };
        Assert.Equal("[1].cost", Assert.Throws<ArgumentException>(() => RecordValidator.ValidateBatch(batch, Now)).ParamName);
        Assert.Equal("records", Assert.Throws<ArgumentException>(() => RecordValidator.ValidateBatch([], Now)).ParamName);
        var tooMany = Enumerable.Range(0, RecordValidator.MaxBatchSize + 1).Select(_ => Records.Valid(at: Now)).ToArray();
        Assert.Equal("records", Assert.Throws<ArgumentException>(() => RecordValidator.ValidateBatch(tooMany, Now)).ParamName);
    }

    [Theory]
    [InlineData("1m", 1)]
    [InlineData("5m", 5)]
    [InlineData("90m", 90)]
    [InlineData("1h", 60)]
    [InlineData("24h", 1440)]
    [InlineData("1d", 1440)]
    public void Windows_parse_to_whole_minutes(string text, int minutes)
    {
        Assert.Equal(TimeSpan.FromMinutes(minutes), TimeWindow.Parse(text));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0m")]
    [InlineData("25h")]
    [InlineData("2d")]
    [InlineData("30s")]
    [InlineData("-5m")]
    [InlineData("1.5h")]
    [InlineData("hour")]
    [InlineData("999999999h")]
    public void Unknown_windows_are_refused(string text)
    {
        Assert.Equal("window", Assert.Throws<ArgumentException>(() => TimeWindow.Parse(text)).ParamName);
    }

    [Fact]
    public void A_grain_error_gets_its_field_back()
    {
        // Orleans delivers a grain's ArgumentException with the message only.
        var remote = new ArgumentException(new ArgumentException("model 'x' is unknown.", "model").Message);
        var restored = ArgumentErrors.Restore(remote);
        Assert.Equal("model", restored.ParamName);
        Assert.Equal("model 'x' is unknown.", ArgumentErrors.DetailOf(restored));
    }
}
