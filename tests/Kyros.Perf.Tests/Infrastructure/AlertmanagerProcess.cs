using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// A real Alertmanager (Debian's <c>prometheus-alertmanager</c>, installed by test.sh) of a test's own: a free loopback
/// port, a temporary storage directory, clustering off, one receiver that sends nowhere; killed by its pid at the end.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http;

    private AlertmanagerProcess(Process process, string directory, string url)
    {
        (_process, _directory, Url) = (process, directory, url);
        _http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(5) };
    }

    public string Url { get; }

    public static async Task<AlertmanagerProcess> StartAsync()
    {
        var directory = Directory.CreateTempSubdirectory("kyros-alertmanager-").FullName;
        var config = Path.Combine(directory, "alertmanager.yml");
        await File.WriteAllTextAsync(config, """
            route:
              receiver: nowhere
              group_wait: 1s
            receivers:
              - name: nowhere
            """);
        var url = $"http://127.0.0.1:{FreePort.Next()}";
        var start = new ProcessStartInfo("prometheus-alertmanager")
        {
            ArgumentList =
            {
                $"--config.file={config}", $"--storage.path={Path.Combine(directory, "data")}", $"--web.listen-address={new Uri(url).Authority}",
                "--cluster.listen-address=",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var alertmanager = new AlertmanagerProcess(process, directory, url);
        await Eventually.UntilAsync(alertmanager.ReadyAsync, ready => ready, TimeSpan.FromSeconds(30));
        return alertmanager;
    }

    private async Task<bool> ReadyAsync()
    {
        Assert.False(_process.HasExited, "alertmanager exited at start");
        try
        {
            return (await _http.GetAsync("/-/ready")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary><c>GET /api/v2/alerts</c>: the alerts Alertmanager holds as active (not yet ended).</summary>
    public async Task<JsonElement[]> ActiveAlertsAsync() => [.. (await _http.GetFromJsonAsync<JsonElement>("/api/v2/alerts"))!.EnumerateArray()];

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
