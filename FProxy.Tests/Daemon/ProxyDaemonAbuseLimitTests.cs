using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.ProxyProtocol;
using FProxy.Tests.Infrastructure;
using FProxy.Tests.Routing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>
/// Limits against abusive clients: open connections per source (MaxConnectionsPerSource) and
/// connections waiting for a PROXY protocol header or a ClientHello (MaxPeekingConnections).
/// </summary>
public sealed class ProxyDaemonAbuseLimitTests
{
    private static readonly IPAddress SourceA = IPAddress.Parse("127.0.0.2");
    private static readonly IPAddress SourceB = IPAddress.Parse("127.0.0.3");

    [Test]
    [CancelAfter(30_000)]
    public async Task MaxConnectionsPerSource_OneSourceAtItsLimit_ItsNextResetOthersServed(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        using var metrics = new MetricRecorder();
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("app", ports, echo.Target) with { MaxConnectionsPerSource = 3 }), ct);

        // Three from A, over both ports: the limit is the app's, not a port's.
        var held = new List<Socket>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await ServedAsync(SourceA, ports[i % 2], ct) ?? throw new AssertionException($"connection {i + 1} from A was not served"));
        }

        Assert.That(await ServedAsync(SourceA, ports[1], ct), Is.Null, "A's fourth is reset");
        using var fromB = await ServedAsync(SourceB, ports[0], ct);
        Assert.That(fromB, Is.Not.Null, "B is not A");
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "app"), ("reason", "source_limit")) == 1, ct);
        await Wait.UntilAsync(() => logs.Count(1221) == 1, ct);
        Assert.That(logs.Messages(1221).Single(), Does.StartWith($"app: port {ports[1]}: connection from 127.0.0.2:")
            .And.Contain("reset (source_limit): its source already has MaxConnectionsPerSource (3) open"));

        held[0].Dispose();
        await Wait.UntilAsync(() => daemon.GetRoute("app")!.Limits.Sources.OpenFrom(SourceA) == 2, ct);
        using var again = await ServedAsync(SourceA, ports[0], ct);
        Assert.That(again, Is.Not.Null, "room again for A once one closed");
        foreach (var socket in held)
        {
            socket.Dispose();
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task MaxConnectionsPerSource_OneSourceFloods_AnotherIsServedThroughout(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        using var metrics = new MetricRecorder();
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("app", [port], echo.Target) with { MaxConnectionsPerSource = 10 }), ct);

        // A opens connections as fast as it can, keeping its first ten, until B has been served
        // 50 times one after another.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var held = new List<Socket>();
        var attempts = 0;
        var flooding = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(SourceA, 0));
                Interlocked.Increment(ref attempts);
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
                }
                catch (SocketException)
                {
                    // Reset before the connect completed here: one of those refused.
                }

                if (held.Count < 10)
                {
                    held.Add(socket);
                }
                else
                {
                    socket.Dispose();
                }
            }
        }, ct);

        await Wait.UntilAsync(() => Volatile.Read(ref attempts) > 20, ct);
        var before = Volatile.Read(ref attempts);
        for (var served = 0; served < 50; served++)
        {
            using var b = await ServedAsync(SourceB, port, ct);
            Assert.That(b, Is.Not.Null, $"B's connection {served + 1}, while A floods");
        }

        var during = Volatile.Read(ref attempts) - before;
        await stop.CancelAsync();
        await flooding;
        Assert.That(during, Is.GreaterThanOrEqualTo(10), "A kept flooding while B was served");
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "app"), ("reason", "source_limit")) == attempts - 10,
            TimeSpan.FromSeconds(20), $"{attempts - 10} of A's connections to be refused");
        Assert.That(daemon.GetRoute("app")!.Limits.Sources.OpenFrom(SourceA), Is.EqualTo(10), "A's first ten stay open");
        Assert.That(logs.Count(1221), Is.InRange(1, 1 + (attempts / 100)), $"{attempts - 10} refusals, a few lines at most (one per 5 s)");
        foreach (var socket in held)
        {
            socket.Dispose();
        }

        await Wait.UntilAsync(() => daemon.GetRoute("app")!.Limits.Sources.Sources == 0, ct);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task MaxConnectionsPerSource_BehindProxyProtocol_CountsTheHeadersClientsByIPv6Slash64(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("app", [port], echo.Target) with { AcceptProxyProtocol = true, MaxConnectionsPerSource = 2 }), ct);

        // Every connection comes from 127.0.0.1, the load balancer; the clients are in the headers.
        using var first = await ClaimingAsync("[2001:db8:0:1::1]:1000", port, ct);
        using var second = await ClaimingAsync("[2001:db8:0:1:ffff::2]:1000", port, ct);
        Assert.That(first, Is.Not.Null);
        Assert.That(second, Is.Not.Null, "a second address of the same /64");
        Assert.That(await ClaimingAsync("[2001:db8:0:1::3]:1000", port, ct), Is.Null, "a third from that /64 is over the limit");
        using var otherNetwork = await ClaimingAsync("[2001:db8:0:2::1]:1000", port, ct);
        using var ipv4 = await ClaimingAsync("192.0.2.1:1000", port, ct);
        Assert.That(otherNetwork, Is.Not.Null, "the next /64 is another source");
        Assert.That(ipv4, Is.Not.Null);
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "app"), ("reason", "source_limit")) == 1, ct);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task MaxConnectionsPerSource_Reload_KeepsCountingTheOpenOnes(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var other = new EchoServer();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = App("app", [port], echo.Target) with { MaxConnectionsPerSource = 2 };
        await daemon.ApplyAsync(Config(app), ct);
        using var one = await ServedAsync(SourceA, port, ct);
        using var two = await ServedAsync(SourceA, port, ct);

        await daemon.ApplyAsync(Config(app with { Targets = new EquatableList<TargetConfig>([Target(other.Target)]) }), ct);

        Assert.That(await ServedAsync(SourceA, port, ct), Is.Null, "the two opened under the old config still count");
        using var fromB = await ServedAsync(SourceB, port, ct);
        Assert.That(fromB, Is.Not.Null);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task MaxPeekingConnections_SilentClientsAwaitingTheirHeader_NextOneResetThenRoomAgain(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("app", [port], echo.Target) with
        {
            AcceptProxyProtocol = true,
            ProxyProtocolTimeout = TimeSpan.FromMinutes(5),
            MaxPeekingConnections = 2,
        }), ct);

        // Two clients connect and say nothing: they hold both places.
        using var silent1 = await Sockets.ConnectAsync(port, ct);
        using var silent2 = await Sockets.ConnectAsync(port, ct);
        await Wait.UntilAsync(() => daemon.GetRoute("app")!.Limits.Peeking.Open == 2, ct);

        Assert.That(await ClaimingAsync("192.0.2.1:1000", port, ct), Is.Null, "a third waiting one is over the bound, header or not");
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "app"), ("reason", "peek_limit")) == 1, ct);

        // One of the silent ones sends its header: it is served, and its place is free again.
        await silent1.SendAsync(Header("192.0.2.9:1000"), SocketFlags.None, ct);
        await silent1.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(silent1, 1, ct), Is.EqualTo("x"u8.ToArray()));
        Assert.That(daemon.GetRoute("app")!.Limits.Peeking.Open, Is.EqualTo(1), "a served connection is no longer waiting");
        using var next = await ClaimingAsync("192.0.2.2:1000", port, ct);
        Assert.That(next, Is.Not.Null);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task MaxPeekingConnections_SilentClientsOfAnSniRule_NextOneResetOthersAppsUntouched(CancellationToken ct)
    {
        await using var a = new EchoServer(greeting: "A\n");
        await using var b = new EchoServer(greeting: "B\n");
        var ports = FreePorts(2);
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create();
        var sni = new RuleConfig
        {
            Match = new MatchConfig { Sni = new EquatableList<string>(["b.example"]) },
            Targets = new EquatableList<TargetConfig>([Target(b.Target)]),
        };
        await daemon.ApplyAsync(Config(
            App("tls", [ports[0]], a.Target) with { Rules = new EquatableList<RuleConfig>([sni]), SniTimeout = TimeSpan.FromMinutes(5), MaxPeekingConnections = 2 },
            App("plain", [ports[1]], a.Target) with { MaxPeekingConnections = 1 }), ct);

        using var silent1 = await Sockets.ConnectAsync(ports[0], ct);
        using var silent2 = await Sockets.ConnectAsync(ports[0], ct);
        await Wait.UntilAsync(() => daemon.GetRoute("tls")!.Limits.Peeking.Open == 2, ct);

        Assert.That(await Sockets.ConnectAndReadEndAsync(ports[0], ct), Is.EqualTo(SocketError.ConnectionReset), "a third is reset");
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "tls"), ("reason", "peek_limit")) == 1, ct);
        Assert.That(await Sockets.GreetingAsync(ports[1], ct), Is.EqualTo("A"), "an app without SNI rules never waits, so never meets the bound");

        // One sends its ClientHello: routed by SNI, and a place is free again.
        await silent1.SendAsync(ClientHelloBuilder.Build("b.example"), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(silent1, 2, ct), Is.EqualTo("B\n"u8.ToArray()));
        await Wait.UntilAsync(() => daemon.GetRoute("tls")!.Limits.Peeking.Open == 1, ct);
        using var next = await Sockets.ConnectAsync(ports[0], ct);
        await next.SendAsync(ClientHelloBuilder.Build("b.example"), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(next, 2, ct), Is.EqualTo("B\n"u8.ToArray()));
    }

    /// <summary>
    /// Connects from <paramref name="source"/> and checks one echo: the open socket when the proxy
    /// served it, null when it reset the connection.
    /// </summary>
    private static async Task<Socket?> ServedAsync(IPAddress source, int port, CancellationToken ct) =>
        await EchoedAsync(source, port, [], ct);

    /// <summary>Connects from 127.0.0.1 with a v2 header naming <paramref name="client"/>, then as <see cref="ServedAsync"/>.</summary>
    private static async Task<Socket?> ClaimingAsync(string client, int port, CancellationToken ct) =>
        await EchoedAsync(IPAddress.Loopback, port, Header(client), ct);

    private static async Task<Socket?> EchoedAsync(IPAddress source, int port, byte[] header, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Bind(new IPEndPoint(source, 0));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            await socket.SendAsync((byte[])[.. header, .. "x"u8], SocketFlags.None, ct);
            if ((await Sockets.ReadAsync(socket, 1, ct)).Length == 1)
            {
                return socket;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
        {
            // Reset at once, maybe before the connect completed on this side.
        }

        socket.Dispose();
        return null;
    }

    private static byte[] Header(string client)
    {
        var source = IPEndPoint.Parse(client);
        var destination = new IPEndPoint(source.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Parse("198.51.100.1") : IPAddress.Parse("2001:db8:ffff::1"), 443);
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        return buffer[..ProxyHeaderWriter.Write(buffer, 2, source, destination)];
    }
}
