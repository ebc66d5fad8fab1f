using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>
/// A valid config whose rollout fails part-way never leaves a half-applied state: a plug-in factory
/// that throws rejects the whole snapshot before anything changes; a port whose bind throws is
/// retried like any port that cannot be bound, with readiness and status saying so.
/// </summary>
public sealed class ProxyDaemonRolloutFailureTests
{
    [TestCase("strategy")]
    [TestCase("probe")]
    [CancelAfter(30_000)]
    public async Task TryApplyAsync_PluginFactoryThrows_NothingChangesAndTheNextSnapshotApplies(string plugin, CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(4);
        var options = new ProxyDaemonBuilder()
            .AddStrategy("Exploding", static _ => throw new InvalidOperationException("strategy boom"))
            .AddProbe("exploding", static _ => throw new InvalidOperationException("probe boom"))
            .Options;
        options.InitialBindRetryDelay = TimeSpan.FromMilliseconds(20);
        await using var daemon = DaemonFixture.Create(options: options);
        var events = DaemonFixture.Collect(daemon, ct);
        var good = Config(App("a", [ports[0]], echo.Target));
        await daemon.ApplyAsync(good, ct);
        var routeBefore = daemon.GetRoute("a");

        // Changes app a (a new port too) and adds app b, whose plug-in cannot be made.
        var broken = App("b", [ports[2]], echo.Target);
        broken = plugin == "strategy" ? broken with { Strategy = "Exploding" } : broken with { HealthCheck = new HealthCheckConfig { Probe = "exploding" } };
        var applied = await daemon.TryApplyAsync(Config(App("a", [ports[0], ports[1]], echo.Target) with { Strategy = "Random" }, broken), ct);

        Assert.That(applied, Is.False);
        Assert.That(daemon.Version, Is.EqualTo(1), "no rollout started");
        Assert.That(daemon.Current, Is.SameAs(good));
        Assert.That(daemon.GetRoute("a"), Is.SameAs(routeBefore), "app a keeps its route");
        Assert.That(daemon.GetRoute("b"), Is.Null);
        Assert.That(daemon.BoundPorts, Is.EqualTo(new[] { ports[0] }), "no port of the failed snapshot was bound");
        Assert.That(daemon.GetStatus().Apps.Select(static a => a.Name), Is.EqualTo(new[] { "a" }));
        Assert.That(daemon.GetReadiness().Ready, Is.True);
        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.RolloutFailed), ct);
        Assert.That(events.Single(static e => e.Kind == DaemonEventKind.RolloutFailed).Message,
            Does.Contain("nothing changed").And.Contain("app \"b\"").And.Contain($"{plugin} boom"));
        Assert.That(await Probe.EchoAsync(ports[0], "still", ct), Is.EqualTo("still"));

        await daemon.ApplyAsync(Config(App("a", [ports[0], ports[3]], echo.Target)), ct);
        Assert.That(daemon.BoundPorts, Is.EqualTo(new[] { ports[0], ports[3] }.Order()));
    }

    [Test]
    [CancelAfter(30_000)]
    public void ApplyAsync_PluginFactoryThrows_ThrowsRolloutExceptionNamingTheApp()
    {
        var options = new ProxyDaemonBuilder().AddStrategy("Exploding", static _ => throw new InvalidOperationException("boom")).Options;
        var daemon = DaemonFixture.Create(options: options);
        try
        {
            var e = Assert.ThrowsAsync<RolloutException>(() => daemon.ApplyAsync(Config(App("x", [FreePorts(1)[0]], "127.0.0.1:1") with { Strategy = "Exploding" })))!;

            Assert.That(e.Message, Is.EqualTo("app \"x\" (the app): strategy \"Exploding\" could not be created: boom"));
            Assert.That(e.InnerException, Is.InstanceOf<InvalidOperationException>());
        }
        finally
        {
            daemon.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task ApplyAsync_BindThrows_PortRetriedWithTheReasonOthersServe(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        var faulty = new FaultyTransportWrapper(ports[1]);
        await using var daemon = DaemonFixture.Create(wrapTransport: faulty.Wrap);
        var events = DaemonFixture.Collect(daemon, ct);

        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);

        Assert.That(daemon.BoundPorts, Is.EqualTo(new[] { ports[0] }));
        var readiness = daemon.GetReadiness();
        Assert.That(readiness.Ready, Is.False);
        Assert.That(readiness.Reasons.Single(), Does.Contain($"port {ports[1]}").And.Contain("InvalidOperationException: injected"));
        Assert.That(daemon.GetStatus().Apps[0].Ports.Single(p => p.Port == ports[1]).State, Is.EqualTo(ListenerState.Retrying));
        Assert.That(async () => await Sockets.ConnectAsync(ports[1], ct), Throws.InstanceOf<SocketException>(), "the listener that failed to start is not left open");
        Assert.That(await Probe.EchoAsync(ports[0], "served", ct), Is.EqualTo("served"));
        Assert.That(events.Where(static e => e.Kind == DaemonEventKind.RolloutApplied).Select(static e => e.Message), Has.One.Contain("1 port(s) not bound yet"));

        faulty.Healed = true;
        await Wait.UntilAsync(() => daemon.GetReadiness().Ready, ct);
        Assert.That(await Probe.EchoAsync(ports[1], "healed", ct), Is.EqualTo("healed"));
    }

    /// <summary>A transport whose acceptors cannot be made for one port until healed.</summary>
    private sealed class FaultyTransportWrapper(int port)
    {
        public volatile bool Healed;

        public ITransport Wrap(ITransport inner) => new Faulty(inner, this);

        private sealed class Faulty(ITransport inner, FaultyTransportWrapper owner) : ITransport
        {
            public string Name => inner.Name;

            public IAcceptor[] CreateAcceptors(Socket listening) =>
                !owner.Healed && ((System.Net.IPEndPoint)listening.LocalEndPoint!).Port == owner._port
                    ? throw new InvalidOperationException("injected")
                    : inner.CreateAcceptors(listening);

            public void AbortAll(ConnectionGroup group) => inner.AbortAll(group);

            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }

        private readonly int _port = port;
    }
}
