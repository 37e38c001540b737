using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>
/// A silo whose catalog is the <see cref="OpenAiTestServer"/>'s tool-calling, JSON and plain models (on the
/// openai-compatible provider) beside two simulated ones: for what real applications send.
/// </summary>
public sealed class RealTrafficSilo : IAsyncLifetime
{
    /// <summary>Model, provider, tools, vision, structured output.</summary>
    private static readonly (string Id, string Provider, bool Tools, bool Vision, bool Structured)[] Models =
    [
        ("tools", "openai-compatible", true, true, true),
        ("json", "openai-compatible", false, false, true),
        ("plain", "openai-compatible", false, false, false),
        ("refusal", "openai-compatible", false, false, false),
        ("sim-tools", "simulated", true, true, true),
        ("sim-plain", "simulated", false, false, false),
    ];

    public OpenAiTestServer Backend { get; private set; } = null!;
    public HttpSilo Silo { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Backend = await OpenAiTestServer.StartAsync();
        var args = new List<string> { "--Kyros:Gateway:RetryDelay=00:00:00.050", "--Kyros:Gateway:SimulationTimeScale=0" };
        for (var i = 0; i < Models.Length; i++)
        {
            var (id, provider, tools, vision, structured) = Models[i];
            var at = $"--Kyros:Catalog:Models:{i}:";
            args.AddRange([$"{at}Id={id}", $"{at}Provider={provider}", $"{at}Capabilities:Tools={tools}", $"{at}Capabilities:Vision={vision}",
                $"{at}Capabilities:StructuredOutput={structured}", $"{at}MaxOutputTokens=1000", $"{at}Simulation:ErrorRate=0"]);
            if (provider != "simulated") args.Add($"{at}Endpoint={Backend.BaseUrl}");
        }
        Silo = await HttpSilo.StartAsync(null, null, [.. args]);
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
