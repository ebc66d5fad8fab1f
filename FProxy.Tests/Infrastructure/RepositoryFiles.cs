namespace FProxy.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from (the shipped config, the samples, deploy/).</summary>
internal static class RepositoryFiles
{
    /// <summary>The repository root: the first directory above the test assembly that holds FProxy.sln.</summary>
    public static string Root
    {
        get
        {
            var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FProxy.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new DirectoryNotFoundException("no FProxy.sln above the test directory");
        }
    }

    /// <summary>The full path of <paramref name="relative"/> (slash-separated) under <see cref="Root"/>.</summary>
    public static string PathOf(string relative) => Path.Combine(Root, relative);
}
