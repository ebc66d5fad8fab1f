using FProxy.Daemon;
using FProxy.Routing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>The readiness rules, apart from how the daemon keeps its state.</summary>
public sealed class DaemonStatusBuilderTests
{
    [Test]
    public void Readiness_AppliedAndEveryPortBound_Ready()
    {
        var readiness = DaemonStatusBuilder.Readiness(applied: true, shuttingDown: false, []);

        Assert.That(readiness.Ready, Is.True);
        Assert.That(readiness.Reasons, Is.Empty);
    }

    [Test]
    public void Readiness_NotAppliedShuttingDownAndAPortUnbound_NotReadyWithEveryReason()
    {
        var route = new AppRoute(App("a", [7001], "127.0.0.1:1"));
        var slot = new PortSlot(7001, route) { Error = "address already in use" };

        var readiness = DaemonStatusBuilder.Readiness(applied: false, shuttingDown: true, [slot]);

        Assert.That(readiness.Ready, Is.False);
        Assert.That(readiness.Reasons, Is.EqualTo(new[] { "no config applied yet", "shutting down", "port 7001 (app a) is not bound: address already in use" }));
        Assert.That(readiness.UnboundPorts, Is.EqualTo(new[] { 7001 }));
    }
}
