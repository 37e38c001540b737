using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Spectre.Console;

namespace Kyros.Perf.Cli;

/// <summary><c>kyros-perf models list|show|add|update|remove|changes</c>: the cluster's catalog, changed at run time.</summary>
public static class ModelCommands
{
    public static Command Models() => new("models", "The cluster's model catalog: list, show, add, update, remove, and its changes")
    {
        List(), Show(), Add(), Update(), Remove(), Changes(),
    };

    private static Command List() =>
        new Command("list", "Every model in the catalog").SetClusterAction(_ => async (client, _) =>
        {
            var models = await client.GetModelsAsync();
            var table = new Table().AddColumns("model", "provider", "endpoint", "context", "max out", "in $/1k", "out $/1k", "latency prior s", "quality prior", "rpm", "tpm");
            foreach (var m in models)
                table.AddRow(Markup.Escape(m.Id), m.Provider, Markup.Escape(m.Endpoint ?? "-"), Commands.F(m.ContextWindow), Commands.F(m.MaxOutputTokens),
                    Commands.F(m.InputPricePer1k), Commands.F(m.OutputPricePer1k), Commands.F(m.LatencyPrior), Commands.F(m.QualityPrior),
                    Commands.F(m.RequestsPerMinute), Commands.F(m.TokensPerMinute));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLineInterpolated($"{models.Count} models");
        });

    private static Command Show()
    {
        var id = new Argument<string>("id") { Description = "The model's id" };
        return new Command("show", "One model as JSON, with its revision") { id }.SetClusterAction(parse =>
        {
            var model = parse.GetRequiredValue(id);
            return async (client, _) =>
            {
                var entry = await client.GetModelAsync(model) ?? throw new ArgumentException($"id '{model}' is not in the catalog.", "id");
                AnsiConsole.MarkupLineInterpolated($"revision {entry.Revision}");
                Console.WriteLine(ModelJson.ToObject(entry.Model).ToJsonString(Indented));
            };
        });
    }

    private static Command Add()
    {
        var fields = new ModelFields();
        var id = new Argument<string>("id") { Description = "The new model's id (or give it in --file)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("add", "Add a model from flags or a JSON file (the shape GET /v1/models shows)") { id };
        fields.AddTo(command);
        return command.SetClusterAction(parse =>
        {
            var patch = fields.Read(parse);
            if (parse.GetValue(id) is { } given) patch["id"] = given;
            var model = ModelJson.Read(patch);
            ModelDescriptorValidator.Validate(model);
            return async (client, _) => Print(await client.AddModelAsync(model), "added");
        });
    }

    private static Command Update()
    {
        var fields = new ModelFields();
        var id = new Argument<string>("id") { Description = "The model's id" };
        var revision = new Option<long?>("--if-revision")
        {
            Description = "Only if the model is still at this revision (what show printed)", HelpName = "revision", CustomParser = Cli.OptionalNumber<long>,
        };
        var command = new Command("update", "Change the fields given (flags or a JSON file of fields); the others stay") { id, revision };
        fields.AddTo(command);
        return command.SetClusterAction(parse =>
        {
            var model = parse.GetRequiredValue(id);
            var patch = fields.Read(parse);
            if (patch.Count == 0) throw new ArgumentException("Give at least one field to change (flags or --file).", "body");
            var expected = parse.GetValue(revision);
            return async (client, _) =>
            {
                var current = await client.GetModelAsync(model) ?? throw new ArgumentException($"id '{model}' is not in the catalog.", "id");
                // The revision asked for, else the one just read: the cluster refuses either once stale.
                Print(await client.UpdateModelAsync(ModelJson.Patch(current.Model, patch), expected ?? current.Revision), "updated");
            };
        });
    }

    private static Command Remove()
    {
        var id = new Argument<string>("id") { Description = "The model's id" };
        var revision = new Option<long?>("--if-revision")
        {
            Description = "Only if the model is still at this revision", HelpName = "revision", CustomParser = Cli.OptionalNumber<long>,
        };
        return new Command("remove", "Remove a model: routing stops choosing it, its statistics and history stay readable") { id, revision }.SetClusterAction(parse =>
        {
            var model = parse.GetRequiredValue(id);
            var expected = parse.GetValue(revision);
            return async (client, _) =>
            {
                var change = await client.RemoveModelAsync(model, expected);
                AnsiConsole.MarkupLineInterpolated($"removed {model} (catalog version {change.Version}): {change.Detail}");
            };
        });
    }

    private static Command Changes()
    {
        var limit = new Option<int>("--limit") { Description = "How many, newest first", DefaultValueFactory = _ => 50, CustomParser = Cli.Number<int> };
        return new Command("changes", "Who changed the catalog, how and when") { limit }.SetClusterAction(parse =>
        {
            var count = parse.GetValue(limit);
            return async (client, _) =>
            {
                var table = new Table().AddColumns("version", "time", "action", "model", "by", "detail");
                foreach (var c in await client.GetModelChangesAsync(count))
                    table.AddRow($"{c.Version}", c.Timestamp.ToString("u"), c.Action.ToString().ToLowerInvariant(), Markup.Escape(c.Model), Markup.Escape(c.Actor), Markup.Escape(c.Detail));
                AnsiConsole.Write(table);
            };
        });
    }

    private static void Print(CatalogEntry entry, string what)
    {
        var m = entry.Model;
        AnsiConsole.MarkupLineInterpolated($"{what} {m.Id} at revision {entry.Revision}");
        var table = new Table().AddColumns("model", "provider", "context", "max out", "in $/1k", "out $/1k", "latency prior s", "quality prior");
        table.AddRow(Markup.Escape(m.Id), m.Provider, Commands.F(m.ContextWindow), Commands.F(m.MaxOutputTokens), Commands.F(m.InputPricePer1k),
            Commands.F(m.OutputPricePer1k), Commands.F(m.LatencyPrior), Commands.F(m.QualityPrior));
        AnsiConsole.Write(table);
    }

    private static readonly JsonSerializerOptions Indented = new(KyrosJson.Options) { WriteIndented = true };

    /// <summary>The model's fields as flags, and <c>--file</c>: read into a JSON object of the fields given (flags win over the file).</summary>
    private sealed class ModelFields
    {
        private readonly Option<string> _file = new("--file") { Description = "A JSON file of the model (or of the fields to change)", HelpName = "path" };
        private readonly Option<string> _provider = new("--provider") { Description = "simulated or openai-compatible" };
        private readonly Option<string> _endpoint = new("--endpoint") { Description = "The API's base URL, for openai-compatible", HelpName = "url" };
        private readonly Option<string> _remoteModel = new("--remote-model") { Description = "The model's name at its provider", HelpName = "name" };
        private readonly Option<string> _apiKeyVariable = new("--api-key-variable") { Description = "The environment variable that holds its API key (KYROS_PROVIDER_<NAME>)", HelpName = "name" };
        private readonly Option<double?> _inputPrice = Number("--input-price", "Price per 1k input tokens");
        private readonly Option<double?> _outputPrice = Number("--output-price", "Price per 1k output tokens");
        private readonly Option<double?> _latencyPrior = Number("--latency-prior", "Expected latency in seconds before statistics exist");
        private readonly Option<double?> _qualityPrior = Number("--quality-prior", "Expected quality (0-1) before feedback exists");
        private readonly Option<double?> _timeout = Number("--timeout", "Seconds a call may take");
        private readonly Option<long?> _contextWindow = Whole("--context-window", "Tokens of context");
        private readonly Option<long?> _maxOutput = Whole("--max-output-tokens", "The most tokens one answer may have");
        private readonly Option<long?> _rpm = Whole("--rpm", "Requests per minute the provider allows");
        private readonly Option<long?> _tpm = Whole("--tpm", "Tokens per minute the provider allows");

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _file, _provider, _endpoint, _remoteModel, _apiKeyVariable, _inputPrice, _outputPrice, _latencyPrior,
                         _qualityPrior, _timeout, _contextWindow, _maxOutput, _rpm, _tpm })
                command.Options.Add(option);
        }

        public JsonObject Read(System.CommandLine.ParseResult parse)
        {
            var fields = new JsonObject();
            if (parse.GetValue(_file) is { } path)
            {
                JsonNode? file;
                try
                {
                    file = JsonNode.Parse(File.ReadAllText(path));
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or JsonException)
                {
                    throw new ArgumentException($"--file '{path}' could not be read as JSON: {exception.Message}", "file");
                }
                if (file is not JsonObject fromFile) throw new ArgumentException($"--file '{path}' must hold a JSON object (a model).", "file");
                fields = fromFile;
            }
            void Set<T>(string name, T? value) where T : struct
            {
                if (value is { } v) fields[name] = JsonValue.Create(v);
            }
            void SetText(string name, string? value)
            {
                if (value is not null) fields[name] = value;
            }
            SetText("provider", parse.GetValue(_provider));
            SetText("endpoint", parse.GetValue(_endpoint));
            SetText("remote_model", parse.GetValue(_remoteModel));
            SetText("api_key_variable", parse.GetValue(_apiKeyVariable));
            Set("input_price_per1k", parse.GetValue(_inputPrice));
            Set("output_price_per1k", parse.GetValue(_outputPrice));
            Set("latency_prior", parse.GetValue(_latencyPrior));
            Set("quality_prior", parse.GetValue(_qualityPrior));
            Set("timeout_seconds", parse.GetValue(_timeout));
            Set("context_window", parse.GetValue(_contextWindow));
            Set("max_output_tokens", parse.GetValue(_maxOutput));
            Set("requests_per_minute", parse.GetValue(_rpm));
            Set("tokens_per_minute", parse.GetValue(_tpm));
            return fields;
        }

        private static Option<double?> Number(string name, string description) =>
            new(name) { Description = description, HelpName = "number", CustomParser = Cli.OptionalNumber<double> };

        private static Option<long?> Whole(string name, string description) =>
            new(name) { Description = description, HelpName = "count", CustomParser = Cli.OptionalNumber<long> };
    }
}
