using System.Text.Json;
using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Silo.Api;

/// <summary>Benchmark runs: submitted to the directory (<see cref="IBenchmarkDirectoryGrain"/>), each run a grain of its own.</summary>
public static class BenchmarkEndpoints
{
    public const int DefaultListLimit = 50;
    private static readonly HashSet<string> ConfigFields =
    [
        "model_types", "test_prompts", "prompt_file", "iterations_per_model", "concurrency_levels", "metrics_to_collect", "max_tokens", "slo", "seed",
        "load", "record_live_statistics", "name",
    ];
    private static readonly HashSet<string> PromptFields = ["prompt", "expected"];
    private static readonly HashSet<string> SloFields = ["ttft_seconds", "latency_seconds"];
    private static readonly HashSet<string> LoadFields = ["target_rps", "duration_seconds", "ramp_steps", "max_in_flight"];

    public static void MapBenchmarkEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/benchmark");
        api.MapPost("/run", Submit);
        api.MapGet("", async (HttpRequest request, IGrainFactory grains) =>
        {
            var limit = QueryFields.Int(request.Query, "limit") ?? DefaultListLimit;
            return Results.Ok(new { Runs = await Directory(grains).ListAsync(limit) });
        });
        api.MapGet("/trends", async (HttpRequest request, IGrainFactory grains) =>
        {
            var q = request.Query;
            return Results.Ok(await Directory(grains).GetTrendsAsync(new BenchmarkTrendQuery(
                Config: q["config"].FirstOrDefault(), Model: q["model"].FirstOrDefault(), Metric: q["metric"].FirstOrDefault(),
                Run: q["run"].FirstOrDefault() is { } run ? BenchmarkValidator.RequireId(run) : null)));
        });
        api.MapGet("/{id}", async (string id, IGrainFactory grains) => Results.Ok(await Run(grains, id).GetAsync()));
        api.MapDelete("/{id}", async (string id, IGrainFactory grains) => Results.Ok(await Run(grains, id).CancelAsync()));
        api.MapGet("/{id}/report", async (string id, HttpRequest request, IGrainFactory grains) =>
        {
            var format = BenchmarkReportFormats.Require(request.Query["format"].FirstOrDefault() ?? BenchmarkReportFormats.Json);
            var report = await Run(grains, id).GetReportAsync(format);
            return Results.Text(report.Content, report.ContentType);
        });
    }

    private static IBenchmarkDirectoryGrain Directory(IGrainFactory grains) => grains.GetGrain<IBenchmarkDirectoryGrain>(0);

    private static IBenchmarkGrain Run(IGrainFactory grains, string id) => grains.GetGrain<IBenchmarkGrain>(BenchmarkValidator.RequireId(id));

    /// <summary>202 with the run (queued or running) and its <c>Location</c>.</summary>
    private static async Task<IResult> Submit(HttpRequest request, IGrainFactory grains)
    {
        using var document = await JsonBody.ReadAsync(request);
        var config = ReadConfig(document.RootElement);
        var run = await Directory(grains).SubmitAsync(config);
        return Results.Accepted($"/v1/benchmark/{run.Id}", run);
    }

    /// <summary>A <see cref="BenchmarkConfig"/> from its snake_case JSON, field by field; ranges are the validator's.</summary>
    public static BenchmarkConfig ReadConfig(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be a JSON object: a benchmark config.", "body");
        JsonFields.RejectUnknown(body, "", ConfigFields, "a benchmark config");
        if (JsonFields.Field(body, "prompt_file") is not null)
            throw new ArgumentException("prompt_file is read by the CLI and the SDK (BenchmarkPrompts.ReadJsonl); over HTTP, send test_prompts.", "prompt_file");
        var defaults = new BenchmarkConfig();
        return new BenchmarkConfig
        {
            ModelTypes = Strings(body, "model_types") ?? [],
            TestPrompts = Prompts(body),
            IterationsPerModel = Int(body, "", "iterations_per_model") ?? defaults.IterationsPerModel,
            ConcurrencyLevels = Ints(body, "concurrency_levels") ?? defaults.ConcurrencyLevels,
            MetricsToCollect = Strings(body, "metrics_to_collect") ?? defaults.MetricsToCollect,
            MaxTokens = Int(body, "", "max_tokens") ?? defaults.MaxTokens,
            Slo = Slo(body),
            Seed = Int(body, "", "seed") ?? defaults.Seed,
            Load = Load(body),
            RecordLiveStatistics = JsonFields.Bool(body, "", "record_live_statistics") ?? false,
            Name = JsonFields.String(body, "", "name"),
        };
    }

    private static BenchmarkPrompt[] Prompts(JsonElement body)
    {
        if (JsonFields.Field(body, "test_prompts") is not { } list) return [];
        if (list.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType("", "test_prompts", "an array of prompts");
        return [.. list.EnumerateArray().Select((item, i) =>
        {
            var prefix = $"test_prompts[{i}].";
            // A bare string is a prompt without an expected answer.
            if (item.ValueKind == JsonValueKind.String) return new BenchmarkPrompt(item.GetString()!);
            if (item.ValueKind != JsonValueKind.Object) throw new ArgumentException($"test_prompts[{i}] must be a string or {{\"prompt\", \"expected\"}}.", $"test_prompts[{i}]");
            JsonFields.RejectUnknown(item, prefix, PromptFields, "a prompt");
            return new BenchmarkPrompt(JsonFields.String(item, prefix, "prompt") ?? throw JsonFields.Missing(prefix, "prompt"),
                JsonFields.String(item, prefix, "expected"));
        })];
    }

    private static BenchmarkSlo Slo(JsonElement body)
    {
        if (JsonFields.Field(body, "slo") is not { } slo) return new BenchmarkSlo();
        if (slo.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", "slo", "an object such as {\"ttft_seconds\": 0.5, \"latency_seconds\": 5}");
        JsonFields.RejectUnknown(slo, "slo.", SloFields, "an SLO");
        return new BenchmarkSlo(JsonFields.Number(slo, "slo.", "ttft_seconds"), JsonFields.Number(slo, "slo.", "latency_seconds"));
    }

    private static BenchmarkLoad? Load(JsonElement body)
    {
        if (JsonFields.Field(body, "load") is not { } load) return null;
        if (load.ValueKind != JsonValueKind.Object) throw JsonFields.WrongType("", "load", "an object such as {\"target_rps\": 20, \"duration_seconds\": 60}");
        JsonFields.RejectUnknown(load, "load.", LoadFields, "a load test");
        var defaults = new BenchmarkLoad(1, 1);
        return new BenchmarkLoad(
            JsonFields.Number(load, "load.", "target_rps") ?? throw JsonFields.Missing("load.", "target_rps"),
            JsonFields.Number(load, "load.", "duration_seconds") ?? throw JsonFields.Missing("load.", "duration_seconds"),
            Int(load, "load.", "ramp_steps") ?? defaults.RampSteps,
            Int(load, "load.", "max_in_flight") ?? defaults.MaxInFlight);
    }

    private static int? Int(JsonElement json, string prefix, string name) => JsonFields.Integer(json, prefix, name) switch
    {
        null => null,
        { } n when n is >= int.MinValue and <= int.MaxValue => (int)n,
        _ => throw new ArgumentException($"{prefix}{name} is out of range.", prefix + name),
    };

    private static string[]? Strings(JsonElement body, string name)
    {
        if (JsonFields.Field(body, name) is not { } list) return null;
        if (list.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType("", name, "an array of strings");
        return [.. list.EnumerateArray().Select((item, i) => item.ValueKind == JsonValueKind.String
            ? item.GetString()!
            : throw new ArgumentException($"{name}[{i}] must be a string.", $"{name}[{i}]"))];
    }

    private static int[]? Ints(JsonElement body, string name)
    {
        if (JsonFields.Field(body, name) is not { } list) return null;
        if (list.ValueKind != JsonValueKind.Array) throw JsonFields.WrongType("", name, "an array of whole numbers");
        return [.. list.EnumerateArray().Select((item, i) => item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var n)
            ? n
            : throw new ArgumentException($"{name}[{i}] must be a whole number.", $"{name}[{i}]"))];
    }
}
