using Kyros.Perf.Silo;
using Microsoft.Extensions.Options;

// "healthcheck": a container's health check (images have no curl): GET /healthz on this silo's HTTP port, exit 0 when ok.
if (args is ["healthcheck", ..])
    return await KyrosSiloHost.CheckHealthAsync(args[1..]);

try
{
    var app = KyrosSiloHost.Build(args);
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
