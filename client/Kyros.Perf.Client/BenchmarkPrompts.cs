using System.Text.Json;
using Kyros.Perf.Benchmarking;

namespace Kyros.Perf.Client;

/// <summary>Prompt files: JSON Lines, one prompt a line, as <c>{"prompt": "...", "expected": "..."}</c> or a bare string.</summary>
public static class BenchmarkPrompts
{
    /// <summary>The prompts of a JSONL file; a bad line is an <see cref="ArgumentException"/> naming <c>prompt_file</c> and the line.</summary>
    public static BenchmarkPrompt[] ReadJsonl(string path)
    {
        if (!File.Exists(path)) throw new ArgumentException($"{path} does not exist.", "prompt_file");
        var prompts = new List<BenchmarkPrompt>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var document = JsonDocument.Parse(line);
                var json = document.RootElement;
                prompts.Add(json.ValueKind switch
                {
                    JsonValueKind.String => new BenchmarkPrompt(json.GetString()!),
                    JsonValueKind.Object when json.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String =>
                        new BenchmarkPrompt(prompt.GetString()!,
                            json.TryGetProperty("expected", out var expected) && expected.ValueKind == JsonValueKind.String ? expected.GetString() : null),
                    _ => throw new ArgumentException($"{path} line {number}: expected a string or an object with a \"prompt\" string.", "prompt_file"),
                });
            }
            catch (JsonException e)
            {
                throw new ArgumentException($"{path} line {number} is not JSON: {e.Message}", "prompt_file", e);
            }
        }
        return prompts.Count > 0 ? [.. prompts] : throw new ArgumentException($"{path} holds no prompt.", "prompt_file");
    }
}
