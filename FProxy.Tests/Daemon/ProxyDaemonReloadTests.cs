using System.Net;
using System.Net.Sockets;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

[CancelAfter(60_000)]
public sealed class ProxyDaemonReloadTests
{
    [Test]
    public async Task ApplyAsync_NewConfig_BindsEveryPortAndForwards(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(2);
        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);

        Assert.That(daemon.BoundPorts, Is.EquivalentTo(ports));
        Assert.That(await Probe.EchoAsync(ports[0], "one", ct), Is.EqualTo("one"));
        Assert.That(await Probe.EchoAsync(ports[1], "two", ct), Is.EqualTo("two"));
    }

    [Test]
    public async Task ApplyAsync_PortAdded_BindsItAndKeepsTheOthers(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var ports = FreePorts(2);
        await daemon.ApplyAsync(Config(App("a", [ports[0]], echo.Target)), ct);
        var first = daemon.GetListener(ports[0]);

        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);

        Assert.That(daemon.GetListener(ports[0]), Is.SameAs(first), "the port that stays is not rebound");
        Assert.That(await Probe.EchoAsync(ports[1], ct: ct), Is.EqualTo("ping"));
        Assert.That(logs.Messages(1305).Last(), Does.EndWith("1 port(s) added, 0 removed, 0 rerouted, 0 rebound"),
            "the port that stays is not reported as rerouted: nothing its connections see changed");
    }

    [Test]
    public async Task ApplyAsync_PortRemoved_RefusesNewConnectionsAndDrainsOpenOnes(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(2);
        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);
        using var open = await Sockets.ConnectAsync(ports[1], ct);
        await open.SendAsync("before"u8.ToArray(), SocketFlags.None, ct);
        await Sockets.ReadAsync(open, 6, ct);

        await daemon.ApplyAsync(Config(App("a", [ports[0]], echo.Target)), ct);

        var refused = Assert.ThrowsAsync<SocketException>(async () => await Sockets.ConnectAsync(ports[1], ct));
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused));
        await open.SendAsync("after"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(open, 5, ct), Is.EqualTo("after"u8.ToArray()), "the open connection drains, it is not cut");
        Assert.That(daemon.ActiveConnections, Is.EqualTo(1));
        open.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(open, ct), Is.EqualTo(SocketError.Success));
        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, TimeSpan.FromSeconds(10), "the drained connection to end");
    }

    [Test]
    public async Task ApplyAsync_PortRemoved_ResetsConnectionsLeftAtDrainTimeout(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(2);
        var app = App("a", ports, echo.Target) with { DrainTimeout = TimeSpan.FromMilliseconds(300) };
        await daemon.ApplyAsync(Config(app), ct);
        using var open = await Sockets.ConnectAsync(ports[1], ct);
        await open.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
        await Sockets.ReadAsync(open, 1, ct);

        await daemon.ApplyAsync(Config(app with { Ports = new([ports[0]]) }), ct);

        Assert.That(await Sockets.ReadEndAsync(open, ct), Is.EqualTo(SocketError.ConnectionReset));
        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, TimeSpan.FromSeconds(10), "the reset connection to be gone");
    }

    [Test]
    public async Task ApplyAsync_TargetsChanged_NewConnectionsTakeNewRouteOpenOneKeepsWorking(CancellationToken ct)
    {
        await using var oldTarget = new EchoServer(greeting: "old\n");
        await using var newTarget = new EchoServer(greeting: "new\n");
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(1);
        await daemon.ApplyAsync(Config(App("a", ports, oldTarget.Target)), ct);
        var listener = daemon.GetListener(ports[0]);
        using var longLived = await Sockets.ConnectAsync(ports[0], ct);
        Assert.That(await Sockets.ReadAsync(longLived, 4, ct), Is.EqualTo("old\n"u8.ToArray()));

        await daemon.ApplyAsync(Config(App("a", ports, newTarget.Target)), ct);

        Assert.That(daemon.GetListener(ports[0]), Is.SameAs(listener), "not rebound");
        Assert.That(await Probe.GreetingAsync(ports[0], "new", ct), Does.StartWith("new"));
        for (var i = 0; i < 3; i++)
        {
            await longLived.SendAsync("still"u8.ToArray(), SocketFlags.None, ct);
            Assert.That(await Sockets.ReadAsync(longLived, 5, ct), Is.EqualTo("still"u8.ToArray()));
        }
    }

    [Test]
    public async Task ApplyAsync_PortMovesToAnotherApp_NotReboundAndRoutedToNewApp(CancellationToken ct)
    {
        await using var a = new EchoServer(greeting: "aa\n");
        await using var b = new EchoServer(greeting: "bb\n");
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(2);
        await daemon.ApplyAsync(Config(App("a", ports, a.Target), App("b", [FreePorts(1)[0]], b.Target)), ct);
        var listener = daemon.GetListener(ports[1]);
        using var open = await Sockets.ConnectAsync(ports[1], ct);
        Assert.That(await Sockets.ReadAsync(open, 3, ct), Is.EqualTo("aa\n"u8.ToArray()));

        var bPorts = daemon.Current.Apps[1].Ports.Append(ports[1]).ToArray();
        await daemon.ApplyAsync(Config(App("a", [ports[0]], a.Target), App("b", bPorts, b.Target)), ct);

        Assert.That(daemon.GetListener(ports[1]), Is.SameAs(listener), "a moved port is not rebound");
        Assert.That(await Probe.GreetingAsync(ports[1], "bb", ct), Does.StartWith("bb"));
        await open.SendAsync("z"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(open, 1, ct), Is.EqualTo("z"u8.ToArray()), "the open connection keeps its old route");
    }

    [Test]
    public async Task ApplyAsync_BindChanged_RebindsAndDrainsOldSocket(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(1);
        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);
        var before = daemon.GetListener(ports[0]);
        using var open = await Sockets.ConnectAsync(ports[0], ct);
        await open.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
        await Sockets.ReadAsync(open, 1, ct);

        await daemon.ApplyAsync(Config(App("a", ports, echo.Target) with { Bind = IPAddress.Any }), ct);

        var after = daemon.GetListener(ports[0]);
        Assert.That(after, Is.Not.SameAs(before));
        Assert.That(after!.LocalEndPoint.Address, Is.EqualTo(IPAddress.Any));
        Assert.That(await Probe.EchoAsync(ports[0], ct: ct), Is.EqualTo("ping"));
        await open.SendAsync("y"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(open, 1, ct), Is.EqualTo("y"u8.ToArray()), "the old socket's connection drains");
    }

    [Test]
    public async Task ApplyAsync_PortTakenByAnotherSocket_OthersServeAndItBindsOnceFreed(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(2);
        var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, ports[1])); // No SO_REUSEPORT: the port is taken.
        squatter.Listen();

        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);

        Assert.That(daemon.BoundPorts, Is.EquivalentTo(new[] { ports[0] }));
        Assert.That(await Probe.EchoAsync(ports[0], ct: ct), Is.EqualTo("ping"));
        squatter.Dispose();
        await Wait.UntilAsync(() => daemon.BoundPorts.Count == 2, TimeSpan.FromSeconds(10), "the freed port to be bound by the retry");
        Assert.That(await Probe.EchoAsync(ports[1], ct: ct), Is.EqualTo("ping"));
    }

    [Test]
    public async Task ApplyAsync_SameConfigTwice_ChangesNothing(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(1);
        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);
        var listener = daemon.GetListener(ports[0]);
        var route = listener!.Route;

        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);

        Assert.That(daemon.GetListener(ports[0]), Is.SameAs(listener));
        Assert.That(listener.Route, Is.SameAs(route), "an equal app keeps its route and its rotation");
    }

    [Test]
    public async Task ApplyAsync_DefaultBind_ServesIPv4AndIPv6Clients(CancellationToken ct)
    {
        if (!Socket.OSSupportsIPv6 || !CanBind(IPAddress.IPv6Loopback))
        {
            Assert.Ignore("no ::1 on this machine: the default Bind serves IPv4 only");
        }

        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(1);
        await daemon.ApplyAsync(Config(App("a", ports, echo.Target) with { Bind = null }), ct);

        Assert.That(await Probe.EchoAsync(ports[0], "v4", ct, IPAddress.Loopback), Is.EqualTo("v4"));
        Assert.That(await Probe.EchoAsync(ports[0], "v6", ct, IPAddress.IPv6Loopback), Is.EqualTo("v6"));
    }

    private static bool CanBind(IPAddress address)
    {
        try
        {
            using var s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(address, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
