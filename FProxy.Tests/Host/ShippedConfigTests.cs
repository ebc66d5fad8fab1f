using FProxy.Configuration;

namespace FProxy.Tests.Host;

/// <summary>The config.json that README's first command runs must stay valid as the schema grows.</summary>
public sealed class ShippedConfigTests
{
    [Test]
    public void ShippedConfig_Loads()
    {
        var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "FProxy.sln")))
        {
            directory = directory.Parent;
        }

        Assert.That(directory, Is.Not.Null, "the repository root (FProxy.sln) above the test directory");
        var config = ConfigFile.Load(Path.Combine(directory!.FullName, "config.json"));
        Assert.That(config.Apps.Select(static a => a.Name), Is.EqualTo(new[] { "five-thousand", "six-thousand" }));
        Assert.That(config.Apps[1].HealthCheck, Is.Not.Null);
    }
}
