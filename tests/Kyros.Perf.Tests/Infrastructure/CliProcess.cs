using System.Diagnostics;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>The kyros-perf CLI run as a user runs it, against a silo's Orleans gateway port.</summary>
public static class CliProcess
{
    public static string Path => BuiltAssembly.Path(System.IO.Path.Combine("client", "Kyros.Perf.Cli"), "kyros-perf.dll");

    public static Task<(int ExitCode, string Output)> RunAsync(int gatewayPort, params string[] args) => RunAsync(new Dictionary<string, string>(), gatewayPort, args);

    /// <param name="environment">Settings as a user's shell gives them (<c>Kyros__ServiceId</c>, for one).</param>
    public static async Task<(int ExitCode, string Output)> RunAsync(IReadOnlyDictionary<string, string> environment, int gatewayPort, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(Path);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.ArgumentList.Add("--gateway");
        start.ArgumentList.Add($"127.0.0.1:{gatewayPort}");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await error);
    }
}
