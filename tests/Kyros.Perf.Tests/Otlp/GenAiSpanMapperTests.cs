using Kyros.Perf.Catalog;
using Kyros.Perf.Silo.Otlp;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Tests.Otlp;

public sealed class GenAiSpanMapperTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly ModelCatalog Catalog = new(Options.Create(new ModelCatalogOptions { Models = [.. DefaultCatalog.Create()] }));
    private static readonly GenAiSpanMapper Mapper = new(Catalog, Options.Create(new OtlpOptions { ModelAliases = { ["gpt-4o-2024-08-06"] = "gpt-4" } }));

    private static OtlpSpan Chat(string model = "gpt-4o-2024-08-06") => new()
    {
        TraceId = "0af7651916cd43dd8448eb211c80319c",
        SpanId = "b7ad6b7169203331",
        Operation = "chat",
        RequestModel = model,
        StartTimeUnixNano = (ulong)(Now.AddSeconds(-10) - DateTimeOffset.UnixEpoch).Ticks * 100,
        EndTimeUnixNano = (ulong)(Now.AddSeconds(-10).AddMilliseconds(1500) - DateTimeOffset.UnixEpoch).Ticks * 100,
        InputTokens = 1000,
        OutputTokens = 500,
        ServerAddress = "api.openai.com",
        ServerPort = 443,
        TimeToFirstToken = 0.25,
    };

    [Fact]
    public void A_chat_span_becomes_one_record_with_the_catalog_model_its_duration_tokens_cost_instance_and_a_request_id_from_its_ids()
    {
        var record = Mapper.Map(Chat(), Now).Record!;
        Assert.Equal("gpt-4", record.Model);
        Assert.Equal(Now.AddSeconds(-10), record.Timestamp);
        Assert.Equal(1.5, record.ExecutionTime, 9);
        Assert.Equal(0.25, record.TimeToFirstToken);
        Assert.Equal((1000L, 500L), (record.InputTokens, record.OutputTokens));
        Assert.Equal((1000 * 0.03 + 500 * 0.06) / 1000, record.Cost, 12);
        Assert.Equal("api.openai.com:443", record.Instance);
        Assert.True(record.Success);
        Assert.Equal("otel-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331", record.RequestId);
    }

    [Fact]
    public void An_error_span_records_its_error_type_and_a_status_error_alone_records_error()
    {
        var typed = Chat();
        typed.ErrorType = "timeout";
        Assert.Equal((false, "timeout"), (Mapper.Map(typed, Now).Record!.Success, Mapper.Map(typed, Now).Record!.ErrorKind));
        var status = Chat();
        status.StatusCode = 2;
        Assert.Equal("error", Mapper.Map(status, Now).Record!.ErrorKind);
        Assert.Equal("system.net.http.httprequestexception", GenAiSpanMapper.ErrorKindOf("System.Net.Http.HttpRequestException"));
        Assert.Equal("rate_limit_exceeded", GenAiSpanMapper.ErrorKindOf("Rate Limit Exceeded"));
    }

    [Fact]
    public void Other_spans_and_kyros_own_spans_are_ignored_and_impossible_ones_rejected_naming_the_attribute()
    {
        var http = Chat();
        http.Operation = null;
        Assert.Equal(default, Mapper.Map(http, Now));
        var agent = Chat();
        agent.Operation = "invoke_agent";
        Assert.Equal(default, Mapper.Map(agent, Now));
        var own = Chat();
        own.Scope = "Kyros.Perf.Gateway";
        Assert.Equal(default, Mapper.Map(own, Now));

        Assert.Contains("gen_ai.request.model 'mystery' is not in the catalog", Rejection(s => s.RequestModel = "mystery"));
        Assert.Contains("end_time_unix_nano", Rejection(s => s.EndTimeUnixNano = s.StartTimeUnixNano - 1));
        Assert.Contains("gen_ai.usage.input_tokens is negative", Rejection(s => s.InputTokens = -5));
        Assert.Contains("gen_ai.usage.output_tokens is negative", Rejection(s => s.OutputTokens = -1));
        Assert.Contains("start_time_unix_nano", Rejection(s => s.StartTimeUnixNano = 0));
        Assert.Contains("gen_ai.usage.input_tokens must be a whole number", Rejection(s => s.Set("gen_ai.usage.input_tokens", "many", null, null)));
        Assert.Contains("timestamp", Rejection(s => (s.StartTimeUnixNano, s.EndTimeUnixNano) = (1_000_000_000, 2_000_000_000)));
    }

    [Fact]
    public void The_response_model_stands_in_when_the_request_names_none_and_older_token_names_are_read()
    {
        var span = Chat();
        span.RequestModel = null;
        span.ResponseModel = "claude";
        span.InputTokens = span.OutputTokens = null;
        span.Set("gen_ai.usage.prompt_tokens", null, 7, null);
        span.Set("gen_ai.usage.completion_tokens", null, null, 9.0);
        var record = Mapper.Map(span, Now).Record!;
        Assert.Equal(("claude", 7L, 9L), (record.Model, record.InputTokens, record.OutputTokens));
    }

    private static string Rejection(Action<OtlpSpan> spoil)
    {
        var span = Chat();
        spoil(span);
        var outcome = Mapper.Map(span, Now);
        Assert.Null(outcome.Record);
        return outcome.Rejection!;
    }
}
