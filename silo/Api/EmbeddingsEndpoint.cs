using System.Buffers.Binary;
using System.Text.Json;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Gateway;
using Kyros.Perf.Silo.Auth;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// <c>POST /v1/embeddings</c> in OpenAI's wire format. <c>model</c> is <c>auto</c>, <c>kyros/&lt;strategy&gt;</c> (routing
/// over the catalog's embedding models) or an embedding model's id. The chosen model and the decision come back in the
/// same <c>x-kyros-*</c> headers as <see cref="ChatCompletionsEndpoint"/>'s.
/// </summary>
public static class EmbeddingsEndpoint
{
    public const string Path = "/v1/embeddings";
    private static readonly HashSet<string> Fields = ["model", "input", "dimensions", "encoding_format", "user"];

    public static void MapEmbeddings(this IEndpointRouteBuilder app) =>
        app.MapPost(Path, EmbedAsync).RequireScope(Scopes.Write)
            .ProducesProblem(StatusCodes.Status502BadGateway).ProducesProblem(StatusCodes.Status504GatewayTimeout)
            .WithSummary("Embed texts (OpenAI's format): route over the embedding models, call, record");

    private static async Task EmbedAsync(HttpContext context, EmbeddingGateway gateway, ModelCatalog catalog)
    {
        using var document = await JsonBody.ReadAsync(context.Request);
        var (read, base64) = Read(document.RootElement, catalog);
        var request = ModelScope.Restrict(context, read);
        var result = await gateway.EmbedAsync(request, ApiKeyMiddleware.CallerOf(context), context.RequestAborted);
        ChatCompletionsEndpoint.SetHeaders(context.Response, result.Model, result.Decision.DecisionId, result.RequestId, result.Simulated);
        await context.Response.WriteAsJsonAsync(new
        {
            Object = "list",
            Data = result.Vectors.Select((vector, index) => new { Object = "embedding", Index = index, Embedding = base64 ? Base64(vector) : (object)vector }),
            result.Model,
            Usage = new { PromptTokens = result.Usage.InputTokens, result.Usage.TotalTokens },
        }, KyrosJson.Options, context.RequestAborted);
    }

    private static (EmbedRequest Request, bool Base64) Read(JsonElement root, ModelCatalog catalog)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new ArgumentException("The body must be an embeddings request object.", "body");
        JsonFields.RejectUnknown(root, "", Fields, "an embeddings request");
        var model = JsonFields.String(root, "", "model") ?? throw new ArgumentException("model is required: auto, kyros/<strategy> or a model id.", "model");
        var (strategy, only) = ChatCompletionsEndpoint.ResolveModel(model, catalog);
        var base64 = JsonFields.String(root, "", "encoding_format") switch
        {
            null or "float" => false,
            "base64" => true,
            var other => throw new ArgumentException($"encoding_format must be float or base64; got '{other}'.", "encoding_format"),
        };
        // The gateway checks the rest (inputs, user, the model's kind) before it routes, for the SDK's calls too.
        var request = new EmbedRequest
        {
            Inputs = ReadInputs(root),
            Strategy = strategy,
            Model = only,
            Dimensions = JsonFields.Integer(root, "", "dimensions") is { } dimensions ? EmbeddingValidator.Dimensions(dimensions, "dimensions") : null,
            User = JsonFields.String(root, "", "user"),
        };
        return (request, base64);
    }

    /// <summary>A string, or an array of strings; OpenAI's token-id arrays are refused, since each model counts with its own encoding.</summary>
    private static IReadOnlyList<string> ReadInputs(JsonElement root) => JsonFields.Field(root, "input") switch
    {
        null => throw JsonFields.Missing("", "input"),
        { ValueKind: JsonValueKind.String } text => [text.GetString()!],
        { ValueKind: JsonValueKind.Array } array => [.. array.EnumerateArray().Select((item, i) => item.ValueKind switch
        {
            JsonValueKind.String => item.GetString()!,
            JsonValueKind.Number or JsonValueKind.Array => throw new ArgumentException("input as token ids is not taken: send the text.", "input"),
            _ => throw JsonFields.WrongType("", $"input[{i}]", "a string"),
        })],
        _ => throw JsonFields.WrongType("", "input", "a string or an array of strings"),
    };

    /// <summary>OpenAI's base64 format: the vector's float32 values, little-endian, one after another.</summary>
    private static string Base64(float[] vector)
    {
        var bytes = new byte[vector.Length * sizeof(float)];
        for (var i = 0; i < vector.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), vector[i]);
        return Convert.ToBase64String(bytes);
    }
}
