using System.Reflection;
using FProxy.Host;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>The systemd unit in deploy/ asks for what the host needs, and names only settings the host reads.</summary>
public sealed class DeployUnitTests
{
    private static readonly string[] Lines = File.ReadAllLines(RepositoryFiles.PathOf("deploy/fproxy.service"));

    [TestCase("Type", "notify")]
    [TestCase("NotifyAccess", "main")]
    [TestCase("AmbientCapabilities", "CAP_NET_BIND_SERVICE")]
    [TestCase("StateDirectory", "fproxy")]
    [TestCase("ExecReload", "/bin/kill -HUP $MAINPID")]
    [TestCase("KillSignal", "SIGTERM")]
    public void Unit_Sets(string key, string value)
    {
        Assert.That(Values(key), Does.Contain(value));
    }

    [Test]
    public void Unit_OpenFilesLimit_HoldsHundredsOfThousandsOfConnections()
    {
        Assert.That(long.Parse(Values("LimitNOFILE").Single(), System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThanOrEqualTo(200_000));
    }

    [Test]
    public void Unit_InvalidConfigAtStart_IsNotRestartedInALoop()
    {
        Assert.That(Values("RestartPreventExitStatus"), Does.Contain(Program.InvalidConfigExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Unit_StopTimeout_CoversTheShutdownDelayAndTheDefaultDrain()
    {
        var delay = Values("Environment").Select(static e => e.Split('=', 2)).Single(static e => e[0] == HostSettings.ShutdownDelayVariable)[1];
        var stop = TimeSpan.FromSeconds(int.Parse(Values("TimeoutStopSec").Single(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(FProxy.Configuration.Duration.TryParse(delay, out var shutdownDelay), Is.True, delay);
        Assert.That(stop, Is.GreaterThan(shutdownDelay + FProxy.Configuration.AppConfig.DefaultDrainTimeout));
    }

    [Test]
    public void Unit_EnvironmentVariables_AreOnesTheHostReads()
    {
        var known = new[] { typeof(HostSettings), typeof(EtcdSettings) }
            .SelectMany(static t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(static f => f.IsLiteral && f.Name.EndsWith("Variable", StringComparison.Ordinal))
            .Select(static f => (string)f.GetRawConstantValue()!)
            .ToHashSet(StringComparer.Ordinal);
        var named = Values("Environment").Select(static e => e.Split('=', 2)[0]).ToList();
        Assert.That(named, Is.Not.Empty);
        Assert.That(named, Is.SubsetOf(known));
    }

    private static List<string> Values(string key) =>
        [.. Lines.Where(l => l.StartsWith(key + "=", StringComparison.Ordinal)).Select(l => l[(key.Length + 1)..])];
}
