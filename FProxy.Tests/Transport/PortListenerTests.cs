using System.Net;
using System.Net.Sockets;
using FProxy.Routing;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Transport;

[CancelAfter(30_000)]
public sealed class PortListenerTests
{
    private static readonly ConnectionHandler Handler = new(
        new TargetConnector(new StaticResolver(), TimeProvider.System, NullLogger.Instance),
        NullLogger.Instance);

    private ITransport _transport = null!;

    [SetUp]
    public void SetUp() => _transport = TestTransport.Create();

    [TearDown]
    public async Task TearDown() => await _transport.DisposeAsync();

    private static AppRoute Route(int port, IPAddress? bind = null) =>
        new(App("a", [port], "127.0.0.1:1") with { Bind = bind });

    [Test]
    public void Bind_TwoListenersOnOnePort_BothBindWithReusePort()
    {
        var port = Sockets.UnusedPort();
        var first = PortListener.Bind(port, Route(port), Handler, _transport, TimeProvider.System, NullLogger.Instance);
        var second = PortListener.Bind(port, Route(port), Handler, _transport, TimeProvider.System, NullLogger.Instance);
        try
        {
            Assert.That(first.LocalEndPoint, Is.EqualTo(second.LocalEndPoint));
        }
        finally
        {
            first.Close();
            second.Close();
        }
    }

    [Test]
    public void EnableReusePort_SetsBothOptionsBeforeBind()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketSetup.EnableReusePort(socket);
        Assert.That(socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress), Is.Not.EqualTo(0));
        if (OperatingSystem.IsLinux())
        {
            Assert.That(SocketSetup.IsReusePortEnabled(socket), Is.True);
        }
    }

    [Test]
    public void Bind_PortHeldWithoutReusePort_Throws()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        squatter.Listen();
        var port = ((IPEndPoint)squatter.LocalEndPoint!).Port;

        var e = Assert.Throws<SocketException>(() => PortListener.Bind(port, Route(port), Handler, _transport, TimeProvider.System, NullLogger.Instance));
        Assert.That(e!.SocketErrorCode, Is.EqualTo(SocketError.AddressAlreadyInUse));
    }

    [Test]
    public async Task Bind_DefaultAddress_AcceptsIPv4AndIPv6Clients(CancellationToken ct)
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Ignore("this machine has no IPv6: the default Bind falls back to 0.0.0.0");
        }

        var port = Sockets.UnusedPort();
        var listener = PortListener.Bind(port, Route(port, bind: null), Handler, _transport, TimeProvider.System, NullLogger.Instance);
        try
        {
            Assert.That(listener.LocalEndPoint.Address, Is.EqualTo(IPAddress.IPv6Any));
            using var v4 = await Sockets.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            try
            {
                using var v6 = await Sockets.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port), ct);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.NetworkUnreachable)
            {
                Assert.Ignore("::1 is not configured on this machine");
            }
        }
        finally
        {
            listener.Close();
        }
    }

    [Test]
    public void Normalize_IPv4MappedClient_BecomesIPv4()
    {
        var mapped = new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 4242);
        Assert.That(SocketSetup.Normalize(mapped), Is.EqualTo(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 4242)));
        var v6 = new IPEndPoint(IPAddress.IPv6Loopback, 1);
        Assert.That(SocketSetup.Normalize(v6), Is.EqualTo(v6));
    }

    [Test]
    public async Task AcceptLoop_AtConnectionBudget_QueuesClientsUntilOneEnds(CancellationToken ct)
    {
        await using var echo = new FProxy.Tests.Infrastructure.EchoServer();
        var handler = new ConnectionHandler(
            new TargetConnector(new StaticResolver(), TimeProvider.System, NullLogger.Instance),
            NullLogger.Instance, new ConnectionBudget(2));
        var port = Sockets.UnusedPort();
        var route = new AppRoute(App("a", [port], echo.Target));
        var listener = PortListener.Bind(port, route, handler, _transport, TimeProvider.System, NullLogger.Instance);
        listener.Start();
        try
        {
            using var first = await Sockets.ConnectAsync(port, ct);
            using var second = await Sockets.ConnectAsync(port, ct);
            Assert.That(await Echo(first, ct), Is.True);
            Assert.That(await Echo(second, ct), Is.True);

            using var third = await Sockets.ConnectAsync(port, ct); // Handshake done by the kernel: queued.
            await third.SendAsync("3"u8.ToArray(), SocketFlags.None, ct);
            var reply = Sockets.ReadAsync(third, 1, ct);
            await Task.WhenAny(reply, Task.Delay(300, ct));
            Assert.That(reply.IsCompleted, Is.False, "over the budget: not served yet");
            Assert.That(handler.Budget.Active, Is.EqualTo(2));

            first.Shutdown(SocketShutdown.Send);
            await Sockets.ReadEndAsync(first, ct);
            Assert.That(await reply, Is.EqualTo("3"u8.ToArray()), "served once a connection ended");
        }
        finally
        {
            listener.Close();
        }
    }

    [Test]
    public async Task AcceptLoop_AtConnectionBudget_ResumesAsSoonAsAConnectionEnds(CancellationToken ct)
    {
        await using var echo = new FProxy.Tests.Infrastructure.EchoServer();
        var handler = new ConnectionHandler(
            new TargetConnector(new StaticResolver(), TimeProvider.System, NullLogger.Instance),
            NullLogger.Instance, new ConnectionBudget(1));
        var port = Sockets.UnusedPort();
        var route = new AppRoute(App("a", [port], echo.Target));

        // The listener's clock never moves: a backoff timer (it grows to 1 s) would never end, so
        // only the budget itself can tell the loop that a share is free again.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new TestLoggerFactory();
        var listener = PortListener.Bind(port, route, handler, _transport, time, logs.CreateLogger("FProxy.Daemon"));
        listener.Start();
        try
        {
            using var first = await Sockets.ConnectAsync(port, ct);
            Assert.That(await Echo(first, ct), Is.True);
            await Wait.UntilAsync(() => logs.Count(1214) == 1, TimeSpan.FromSeconds(10), "the accept loop to find the budget spent and pause");

            using var second = await Sockets.ConnectAsync(port, ct); // Queued by the kernel.
            await second.SendAsync("2"u8.ToArray(), SocketFlags.None, ct);
            var reply = Sockets.ReadAsync(second, 1, ct);
            first.Shutdown(SocketShutdown.Send);
            await Sockets.ReadEndAsync(first, ct);

            Assert.That(await Task.WhenAny(reply, Task.Delay(TimeSpan.FromSeconds(5), ct)), Is.SameAs(reply), "served once the first ended, without a timer");
            Assert.That(await reply, Is.EqualTo("2"u8.ToArray()));
        }
        finally
        {
            listener.Close();
        }
    }

    private static async Task<bool> Echo(Socket socket, CancellationToken ct)
    {
        await socket.SendAsync("e"u8.ToArray(), SocketFlags.None, ct);
        return (await Sockets.ReadAsync(socket, 1, ct)).Length == 1;
    }

    [Test]
    public async Task AcceptedSocket_InheritsNoDelayAndKeepAliveFromListener(CancellationToken ct)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Ignore("the inheritance of TCP options by accepted sockets is what Linux does");
        }

        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketSetup.ConfigureConnection(listener, new FProxy.Configuration.KeepAliveConfig(true, TimeSpan.FromSeconds(77), TimeSpan.FromSeconds(7), 3));
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var client = await Sockets.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, ct);
        using var accepted = await listener.AcceptAsync(ct);

        Assert.Multiple(() =>
        {
            Assert.That(accepted.NoDelay, Is.True);
            Assert.That(accepted.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive), Is.Not.EqualTo(0));
            Assert.That(accepted.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime), Is.EqualTo(77));
            Assert.That(accepted.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval), Is.EqualTo(7));
            Assert.That(accepted.GetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount), Is.EqualTo(3));
        });
    }
}
