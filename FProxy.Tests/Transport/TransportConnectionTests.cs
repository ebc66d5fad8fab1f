using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;

namespace FProxy.Tests.Transport;

/// <summary>
/// The transport seam as the shared connection logic uses it, on each transport: accept, connect,
/// pump, peek and abort of a <see cref="TransportConnection"/>.
/// </summary>
[TestFixture(ProxyTransport.Epoll)]
[TestFixture(ProxyTransport.Sockets)]
[CancelAfter(60_000)]
public sealed class TransportConnectionTests(ProxyTransport kind)
{
    private TransportFixture _fixture = null!;
    private PinnedBlockMemoryPool _pool = null!;

    [SetUp]
    public void SetUp()
    {
        if (kind == ProxyTransport.Epoll && !FProxy.Transport.Linux.EpollTransport.IsSupported)
        {
            Assert.Ignore("epoll is Linux only");
        }

        _pool = new PinnedBlockMemoryPool();
        _fixture = new TransportFixture(kind, pool: _pool);
    }

    [TearDown]
    public async Task TearDown()
    {
        if (_fixture is not null)
        {
            await _fixture.DisposeAsync();
        }

        _pool?.Dispose();
    }

    private ValueTask<SocketError> ConnectAsync(TransportConnection connection, int port, TimeSpan? timeout = null, IPAddress? address = null) =>
        connection.ConnectAsync([address ?? IPAddress.Loopback], port, _fixture.Deadline(timeout ?? TimeSpan.FromSeconds(5)), KeepAliveConfig.Default);

    [Test]
    public async Task Pump_4MiBEachWayAndFins_ArriveWholeAndCountedOnce(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        Assert.That(connection.ClientEndPoint, Is.EqualTo(client.LocalEndPoint));
        Assert.That(await ConnectAsync(connection, echo.Port), Is.EqualTo(SocketError.Success));
        var pump = connection.PumpAsync(null, null).AsTask();

        var payload = RandomNumberGenerator.GetBytes(4 << 20);
        var send = Task.Run(async () =>
        {
            await client.SendAsync(payload, SocketFlags.None, ct);
            client.Shutdown(SocketShutdown.Send);
        }, ct);
        var received = new MemoryStream();
        var buffer = new byte[65536];
        int n;
        while ((n = await client.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
        {
            received.Write(buffer, 0, n);
        }

        await send;
        Assert.That(SHA256.HashData(received.ToArray()), Is.EqualTo(SHA256.HashData(payload)));
        Assert.That(await pump.WaitAsync(ct), Is.EqualTo(new PumpResult(payload.Length, payload.Length, PumpEnd.Closed)));
        connection.Release();
        await Wait.UntilAsync(() => _pool.Outstanding == 0, ct);
    }

    [Test]
    public async Task Pump_TargetSpeaksFirstAndCloses_ClientGetsGreetingThenFin(CancellationToken ct)
    {
        await using var greeter = new EchoServer(greeting: "hello\n");
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        Assert.That(await ConnectAsync(connection, greeter.Port), Is.EqualTo(SocketError.Success));
        var pump = connection.PumpAsync(null, null).AsTask();
        Assert.That(await Sockets.ReadAsync(client, 6, ct), Is.EqualTo("hello\n"u8.ToArray()));
        client.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.Success));
        Assert.That((await pump.WaitAsync(ct)).End, Is.EqualTo(PumpEnd.Closed));
        connection.Release();
    }

    [Test]
    public async Task Connect_RefusedPort_IsConnectionRefusedAndAnotherTargetMayFollow(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        Assert.That(await ConnectAsync(connection, Sockets.UnusedPort()), Is.EqualTo(SocketError.ConnectionRefused));
        Assert.That(await ConnectAsync(connection, echo.Port), Is.EqualTo(SocketError.Success), "the next target, on the same connection");
        var pump = connection.PumpAsync(null, null).AsTask();
        await client.SendAsync("ping"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(client, 4, ct), Is.EqualTo("ping"u8.ToArray()));
        client.Shutdown(SocketShutdown.Send);
        Assert.That((await pump.WaitAsync(ct)).End, Is.EqualTo(PumpEnd.Closed));
        connection.Release();
    }

    [Test]
    public async Task Connect_SilentAddress_TimedOutAtTheDeadline(CancellationToken ct)
    {
        using var silent = Sockets.SilentListener(IPAddress.Parse("127.0.0.3"), out var fillers);
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var result = await ConnectAsync(connection, ((IPEndPoint)silent.LocalEndPoint!).Port, TimeSpan.FromMilliseconds(300), IPAddress.Parse("127.0.0.3"));
        fillers.ForEach(static f => f.Dispose());
        Assert.That(result, Is.EqualTo(SocketError.TimedOut));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)));
        connection.Reset();
        connection.Release();
    }

    [Test]
    public async Task Abort_WhilePumping_ResetsBothSides(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        Assert.That(await ConnectAsync(connection, echo.Port), Is.EqualTo(SocketError.Success));
        var pump = connection.PumpAsync(null, null).AsTask();
        await client.SendAsync("ping"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(client, 4, ct), Is.EqualTo("ping"u8.ToArray()));
        connection.Abort();
        Assert.That((await pump.WaitAsync(ct)).End, Is.EqualTo(PumpEnd.Aborted));
        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.ConnectionReset));
        connection.Release();
    }

    [Test]
    public async Task Abort_WhileConnecting_IsOperationAborted(CancellationToken ct)
    {
        using var silent = Sockets.SilentListener(IPAddress.Parse("127.0.0.3"), out var fillers);
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        var connect = ConnectAsync(connection, ((IPEndPoint)silent.LocalEndPoint!).Port, TimeSpan.FromMinutes(1), IPAddress.Parse("127.0.0.3")).AsTask();
        connection.Abort();
        Assert.That(await connect.WaitAsync(ct), Is.EqualTo(SocketError.OperationAborted));
        Assert.That(connection.IsAborted, Is.True);
        fillers.ForEach(static f => f.Dispose());
        connection.Reset();
        connection.Release();
    }

    [Test]
    public async Task Abort_AfterBothFins_ResetsNothing(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        Assert.That(await ConnectAsync(connection, echo.Port), Is.EqualTo(SocketError.Success));
        var pump = connection.PumpAsync(null, null).AsTask();
        await client.SendAsync("done"u8.ToArray(), SocketFlags.None, ct);
        client.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadAsync(client, 4, ct), Is.EqualTo("done"u8.ToArray()));
        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.Success), "the FIN");
        connection.Abort(); // A drain deadline arriving after a graceful finish.
        Assert.That((await pump.WaitAsync(ct)).End, Is.EqualTo(PumpEnd.Closed));
        connection.Release();
    }

    [Test]
    public async Task Peek_NotTls_DecidesAtOnceAndKeepsTheBytesForTheTarget(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        await client.SendAsync("GET / HTTP/1.1\r\n"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await connection.PeekServerNameAsync(TimeSpan.FromMinutes(5)), Is.EqualTo(((string?)null, false)));
        Assert.That(await ConnectAsync(connection, echo.Port), Is.EqualTo(SocketError.Success));
        var pump = connection.PumpAsync(null, null).AsTask();
        Assert.That(await Sockets.ReadAsync(client, 16, ct), Is.EqualTo("GET / HTTP/1.1\r\n"u8.ToArray()));
        client.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.Success));
        Assert.That(await pump.WaitAsync(ct), Is.EqualTo(new PumpResult(16, 16, PumpEnd.Closed)));
        connection.Release();
    }

    [Test]
    public async Task Peek_HelloInTwoSegments_FindsTheName(CancellationToken ct)
    {
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        var hello = FProxy.Tests.Routing.ClientHelloBuilder.Build("api.example.com");
        await client.SendAsync(hello.AsMemory(0, 20), SocketFlags.None, ct);
        var peek = connection.PeekServerNameAsync(TimeSpan.FromMinutes(5)).AsTask();
        await Task.Delay(50, ct); // A second segment, not a wait for a condition.
        await client.SendAsync(hello.AsMemory(20), SocketFlags.None, ct);
        Assert.That(await peek.WaitAsync(ct), Is.EqualTo(("api.example.com", false)));
        connection.Reset();
        connection.Release();
    }

    [Test]
    public async Task Peek_SilentClient_NoNameAtTheTimeout(CancellationToken ct)
    {
        var (client, connection) = await _fixture.AcceptAsync(ct);
        using var _ = client;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(await connection.PeekServerNameAsync(TimeSpan.FromMilliseconds(200)), Is.EqualTo(((string?)null, false)));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)));
        connection.Reset();
        connection.Release();
    }

    [Test]
    public async Task Peek_ClientResets_Failed(CancellationToken ct)
    {
        var (client, connection) = await _fixture.AcceptAsync(ct);
        var peek = connection.PeekServerNameAsync(TimeSpan.FromMinutes(5)).AsTask();
        client.LingerState = new LingerOption(true, 0);
        client.Dispose();
        Assert.That(await peek.WaitAsync(ct), Is.EqualTo(((string?)null, true)));
        connection.Reset();
        connection.Release();
    }
}
