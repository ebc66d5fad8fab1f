using System.Net;
using FProxy.Configuration;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Configuration;

public sealed class ConfigDiffTests
{
    private static PortChangeKind[] Kinds(ProxyConfig before, ProxyConfig after) =>
        [.. ConfigDiff.Compute(before, after).Select(c => c.Kind)];

    [Test]
    public void Compute_FromEmpty_EveryPortAdded()
    {
        var changes = ConfigDiff.Compute(ProxyConfig.Empty, Config(App("a", [2, 1], "h:1")));
        Assert.That(changes.Select(c => (c.Port, c.Kind)), Is.EqualTo(new[] { (1, PortChangeKind.Added), (2, PortChangeKind.Added) }));
    }

    [Test]
    public void Compute_EqualSnapshots_AllUnchanged()
    {
        Assert.That(Kinds(Config(App("a", [1, 2], "h:1")), Config(App("a", [1, 2], "h:1"))), Is.All.EqualTo(PortChangeKind.Unchanged));
    }

    [Test]
    public void Compute_AppGainedAPortOnly_ItsOtherPortsAreReroutedButNotReportedSo()
    {
        // The route is swapped (a new object), but nothing a connection on port 1 sees changed.
        var changes = ConfigDiff.Compute(Config(App("a", [1], "h:1")), Config(App("a", [1, 2], "h:1")));
        Assert.That(changes.Select(static c => (c.Port, c.Kind, c.OnlyPortsChanged)),
            Is.EqualTo(new[] { (1, PortChangeKind.Rerouted, true), (2, PortChangeKind.Added, false) }));
    }

    [Test]
    public void Compute_PortsAndTargetsChanged_ReportedAsRerouted()
    {
        var changes = ConfigDiff.Compute(Config(App("a", [1], "h:1")), Config(App("a", [1, 2], "h:2")));
        Assert.That(changes[0].OnlyPortsChanged, Is.False);
    }

    [Test]
    public void Compute_PortDropped_Removed()
    {
        var changes = ConfigDiff.Compute(Config(App("a", [1, 2], "h:1")), Config(App("a", [1], "h:1")));
        Assert.That(changes.Single(c => c.Port == 2).Kind, Is.EqualTo(PortChangeKind.Removed));
        Assert.That(changes.Single(c => c.Port == 1).Kind, Is.EqualTo(PortChangeKind.Rerouted), "its app changed (a port less), the socket stays");
    }

    [Test]
    public void Compute_TargetsOrTimeoutsChanged_ReroutedNotRebound()
    {
        var before = App("a", [1], "h:1");
        Assert.That(Kinds(Config(before), Config(App("a", [1], "h:2"))), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
        Assert.That(Kinds(Config(before), Config(before with { ConnectTimeout = TimeSpan.FromSeconds(1) })), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
        Assert.That(Kinds(Config(before), Config(before with { KeepAlive = KeepAliveConfig.Off })), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
    }

    [Test]
    public void Compute_LimitsOrAccessLogChanged_ReroutedNotRebound()
    {
        var before = App("a", [1], "h:1");
        Assert.That(Kinds(Config(before), Config(before with { AccessLog = true })), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
        Assert.That(Kinds(Config(before), Config(before with { MaxConnections = 10 })), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
        Assert.That(Kinds(Config(before), Config(before with { IdleTimeout = TimeSpan.FromMinutes(5) })), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
    }

    [Test]
    public void Compute_BindOrBacklogChanged_Rebound()
    {
        var before = App("a", [1], "h:1");
        Assert.That(Kinds(Config(before), Config(before with { Bind = IPAddress.Any })), Is.EqualTo(new[] { PortChangeKind.Rebound }));
        Assert.That(Kinds(Config(before), Config(before with { Backlog = 16 })), Is.EqualTo(new[] { PortChangeKind.Rebound }));
    }

    [Test]
    public void Compute_PortMovesToAnotherApp_ReroutedWithBothApps()
    {
        var before = Config(App("a", [1, 2], "h:1"), App("b", [3], "h:2"));
        var after = Config(App("a", [1], "h:1"), App("b", [3, 2], "h:2"));
        var moved = ConfigDiff.Compute(before, after).Single(c => c.Port == 2);
        Assert.That(moved.Kind, Is.EqualTo(PortChangeKind.Rerouted));
        Assert.That((moved.Before!.Name, moved.After!.Name), Is.EqualTo(("a", "b")));
    }

    [Test]
    public void Compute_AppRenamedSameSettings_Rerouted()
    {
        Assert.That(Kinds(Config(App("a", [1], "h:1")), Config(App("b", [1], "h:1"))), Is.EqualTo(new[] { PortChangeKind.Rerouted }));
    }
}
