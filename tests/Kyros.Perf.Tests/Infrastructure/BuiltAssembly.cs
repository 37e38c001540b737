namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>Finds a program of this repository as built next to the tests (same configuration).</summary>
public static class BuiltAssembly
{
    /// <summary>The folder that holds Kyros.Perf.sln, above the tests' output.</summary>
    public static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "Kyros.Perf.sln"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Kyros.Perf.sln not found above " + AppContext.BaseDirectory);
    }

    public static string Path(string projectFolder, string assembly)
    {
        var separator = System.IO.Path.DirectorySeparatorChar;
        var configuration = AppContext.BaseDirectory.Contains($"{separator}Release{separator}") ? "Release" : "Debug";
        var path = System.IO.Path.Combine(RepositoryRoot(), projectFolder, "bin", configuration, "net10.0", assembly);
        return File.Exists(path) ? path : throw new FileNotFoundException($"Build {projectFolder} first (./test.sh builds the solution).", path);
    }
}
