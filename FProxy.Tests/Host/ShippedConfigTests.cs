using FProxy.Configuration;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>The config.json that README's first command runs must stay valid as the schema grows.</summary>
public sealed class ShippedConfigTests
{
    [Test]
    public void ShippedConfig_Loads()
    {
        var config = ConfigFile.Load(RepositoryFiles.PathOf("config.json"));
        Assert.That(config.Apps.Select(static a => a.Name), Is.EqualTo(new[] { "five-thousand", "six-thousand" }));
        Assert.That(config.Apps[1].HealthCheck, Is.Not.Null);
    }
}
