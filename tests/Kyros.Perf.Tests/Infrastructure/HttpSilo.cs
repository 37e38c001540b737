using Kyros.Perf.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>The real silo host (Orleans, HTTP API, dashboard) in this process, embedded mode, on free loopback ports.</summary>
public sealed class HttpSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpSilo(WebApplication app, string baseAddress, string dataDirectory, int gatewayPort)
    {
        _app = app;
        GatewayPort = gatewayPort;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(60) };
    }

    public HttpClient Http { get; }
    public int GatewayPort { get; }
    public string DataDirectory { get; }
    public IServiceProvider Services => _app.Services;

    public static Task<HttpSilo> StartAsync(string? dataDirectory = null, params string[] extraArgs) => StartAsync(dataDirectory, null, extraArgs);

    public static async Task<HttpSilo> StartAsync(string? dataDirectory, Action<WebApplicationBuilder>? configure, params string[] extraArgs)
    {
        dataDirectory ??= Directory.CreateTempSubdirectory("kyros-silo-").FullName;
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var gatewayPort = FreePort.Next();
        string[] args =
        [
            $"--Kyros:HttpUrl={url}",
            $"--Kyros:SiloPort={FreePort.Next()}",
            $"--Kyros:GatewayPort={gatewayPort}",
            "--Kyros:HostName=test-silo",
            $"--Kyros:History:DatabasePath={Path.Combine(dataDirectory, "history.db")}",
            "--Kyros:ModelStats:CheckpointInterval=00:00:01",
            "--Kyros:Resources:SampleInterval=00:00:01",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Orleans=Error",
            .. extraArgs,
        ];
        var app = KyrosSiloHost.Build(args, builder =>
        {
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        return new HttpSilo(app, url, dataDirectory, gatewayPort);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed class SharedHttpSilo : IAsyncLifetime
{
    public HttpSilo Value { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Value = await HttpSilo.StartAsync();

    public ValueTask DisposeAsync() => Value.DisposeAsync();
}
