using Kyros.Perf.Silo;
using Microsoft.Extensions.Options;

// "healthcheck": a container's health check (images have no curl): GET /healthz on this silo's HTTP port, exit 0 when ok.
if (args is ["healthcheck", ..])
    return await KyrosSiloHost.CheckHealthAsync(args[1..]);

// StackExchange.Redis follows a Sentinel failover with blocking waits on pool threads (each connection's switch waits
// for its reconfigure, and retries it every second): on 2 cores the pool's minimum of 2 starved, and every request
// stalled up to 7 s past its bound. With 64, writes were back as soon as the Sentinels promoted the replica (SentinelProcessTests).
ThreadPool.GetMinThreads(out var workerThreads, out var completionPortThreads);
ThreadPool.SetMinThreads(Math.Max(workerThreads, 64), completionPortThreads);

try
{
    var app = KyrosSiloHost.Build(args);
    // Here, not in Build: a test host stopping slowly must not end the test run's process.
    ShutdownDeadline.Enforce(app.Lifetime, app.Services.GetRequiredService<IOptions<KyrosSiloOptions>>().Value.ShutdownTimeout);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException exception)
{
    Console.Error.WriteLine("Kyros.Perf cannot start, a setting is wrong:");
    foreach (var failure in exception.Failures) Console.Error.WriteLine($"  {failure}");
    return 2;
}
catch (InvalidOperationException exception) when (exception.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
{
    // The binder names the setting ("... at 'Kyros:SiloPort' to type 'System.Int32'").
    Console.Error.WriteLine($"Kyros.Perf cannot start, a setting is wrong:\n  {exception.Message}");
    return 2;
}
