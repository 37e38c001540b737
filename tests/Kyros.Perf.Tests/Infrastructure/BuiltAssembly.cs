namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>Finds a program of this repository as built next to the tests (same configuration).</summary>
public static class BuiltAssembly
{
    public static string Path(string projectFolder, string assembly)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Kyros.Perf.sln"))) directory = directory.Parent;
        if (directory is null) throw new InvalidOperationException("Kyros.Perf.sln not found above " + AppContext.BaseDirectory);
        var separator = System.IO.Path.DirectorySeparatorChar;
        var configuration = AppContext.BaseDirectory.Contains($"{separator}Release{separator}") ? "Release" : "Debug";
        var path = System.IO.Path.Combine(directory.FullName, projectFolder, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {projectFolder} first (./test.sh builds the solution).", path);
    }
}
