using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Gateway;

/// <summary>A silo whose catalog is the <see cref="OpenAiTestServer"/>'s models, on the openai-compatible provider, and that server.</summary>
public sealed class GatewaySilo : IAsyncLifetime
{
    /// <summary>Model, latency prior, quality prior, timeout: <c>broken</c> looks best, so routing tries it first and falls back.</summary>
    private static readonly (string Id, double Latency, double Quality, double Timeout)[] Models =
    [
        ("echo", 1, 0.6, 30), ("ratelimit-once", 1, 0.6, 30), ("broken", 0.1, 0.99, 30), ("slow", 1, 0.6, 0.5),
        ("drop", 1, 0.6, 30), ("refuse", 1, 0.6, 30), ("slow-b", 0.1, 0.99, 0.5), ("garbage", 1, 0.6, 30), ("drop-b", 0.1, 0.99, 30),
        ("nostream", 1, 0.6, 30),
    ];

    public OpenAiTestServer Backend { get; private set; } = null!;
    public HttpSilo Silo { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Backend = await OpenAiTestServer.StartAsync();
        var args = new List<string> { "--Kyros:Gateway:RetryDelay=00:00:00.050" };
        for (var i = 0; i < Models.Length; i++)
        {
            var (id, latency, quality, timeout) = Models[i];
            var at = $"--Kyros:Catalog:Models:{i}:";
            args.AddRange([$"{at}Id={id}", $"{at}Provider=openai-compatible", $"{at}Endpoint={Backend.BaseUrl}", $"{at}LatencyPrior={latency}",
                $"{at}QualityPrior={quality}", $"{at}TimeoutSeconds={timeout}", $"{at}MaxOutputTokens=1000"]);
        }
        Silo = await HttpSilo.StartAsync(null, null, [.. args]);
    }

    public async ValueTask DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Backend.DisposeAsync();
    }
}
