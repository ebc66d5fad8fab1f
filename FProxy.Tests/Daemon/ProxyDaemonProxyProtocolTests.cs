using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.ProxyProtocol;
using FProxy.Tests.Infrastructure;
using FProxy.Tests.Routing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>PROXY protocol through the daemon: headers accepted from clients, and sent to targets.</summary>
public sealed class ProxyDaemonProxyProtocolTests
{
    private static readonly IPEndPoint Claimed = IPEndPoint.Parse("203.0.113.7:5555");
    private static readonly IPEndPoint ClaimedDestination = IPEndPoint.Parse("198.51.100.1:443");

    [TestCase(1)]
    [TestCase(2)]
    [CancelAfter(30_000)]
    public async Task Accept_HeaderWithBytesInTheSameWrite_RoutesOnAndLogsTheHeadersClient(int version, CancellationToken ct)
    {
        await using var a = new EchoServer(greeting: "A\n");
        await using var b = new EchoServer(greeting: "B\n");
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("pp", [port], a.Target) with
        {
            AcceptProxyProtocol = true,
            AccessLog = true,
            Rules = new EquatableList<RuleConfig>([Rule("203.0.113.0/24", b.Target)]),
        }), ct);

        using var socket = await Sockets.ConnectAsync(port, ct);
        await socket.SendAsync((byte[])[.. Header(version, Claimed, ClaimedDestination), .. "hello"u8], SocketFlags.None, ct);
        var reply = await Sockets.ReadAsync(socket, 7, ct);
        Assert.That(System.Text.Encoding.ASCII.GetString(reply), Is.EqualTo("B\nhello"), "routed on the header's source; the bytes after it forwarded");

        socket.Shutdown(SocketShutdown.Send);
        await Sockets.ReadEndAsync(socket, ct);
        await Wait.UntilAsync(() => logs.Count(1250) == 1, ct);
        Assert.That(logs.Messages(1250).Single(), Does.StartWith($"pp port={port} client=203.0.113.7:5555 target={b.Target}").And.Contain("bytes_up=5"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Accept_HeaderArrivingByteByByte_IsReadWhole(CancellationToken ct)
    {
        await using var a = new EchoServer(greeting: "A\n");
        await using var b = new EchoServer(greeting: "B\n");
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], a.Target) with
        {
            AcceptProxyProtocol = true,
            Rules = new EquatableList<RuleConfig>([Rule("203.0.113.0/24", b.Target)]),
        }), ct);

        using var socket = await Sockets.ConnectAsync(port, ct);
        foreach (var one in Header(2, Claimed, ClaimedDestination))
        {
            await socket.SendAsync(new[] { one }, SocketFlags.None, ct);
            await Task.Delay(2, ct);
        }

        Assert.That(System.Text.Encoding.ASCII.GetString(await Sockets.ReadAsync(socket, 2, ct)), Is.EqualTo("B\n"));
    }

    [TestCase("PROXY UNKNOWN\r\n")]
    [TestCase("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n")]
    [TestCase("v2-local")]
    [CancelAfter(30_000)]
    public async Task Accept_LocalOrUnknownHeader_KeepsTheConnectionsOwnAddress(string header, CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("pp", [port], echo.Target) with { AcceptProxyProtocol = true, AccessLog = true }), ct);

        var bytes = new byte[ProxyHeaderWriter.MaxLength];
        var length = header == "v2-local" ? ProxyHeaderWriter.WriteLocal(bytes, 2) : System.Text.Encoding.ASCII.GetBytes(header, bytes);
        using var socket = await Sockets.ConnectAsync(port, ct);
        await socket.SendAsync(bytes.AsMemory(0, length), SocketFlags.None, ct);
        await socket.SendAsync("ok"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(socket, 2, ct), Is.EqualTo("ok"u8.ToArray()));
        socket.Shutdown(SocketShutdown.Send);
        await Sockets.ReadEndAsync(socket, ct);
        await Wait.UntilAsync(() => logs.Count(1250) == 1, ct);
        Assert.That(logs.Messages(1250).Single(), Does.StartWith($"pp port={port} client=127.0.0.1:"));
    }

    [TestCase("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "proxy_malformed")]
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "proxy_malformed")]
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1", "proxy_malformed")] // Then the client closes: truncated.
    [TestCase("", "proxy_timeout")]
    [TestCase("PROXY TCP4 1.2.3.4", "proxy_timeout")]
    [CancelAfter(30_000)]
    public async Task Accept_BadOrLateHeader_ResetsThatConnectionOnlyCountedAndLogged(string sent, string reason, CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("pp", [port], echo.Target) with
        {
            AcceptProxyProtocol = true,
            ProxyProtocolTimeout = TimeSpan.FromMilliseconds(300),
        }), ct);

        using (var bad = await Sockets.ConnectAsync(port, ct))
        {
            await bad.SendAsync(System.Text.Encoding.ASCII.GetBytes(sent), SocketFlags.None, ct);
            if (sent.EndsWith(" 1", StringComparison.Ordinal))
            {
                bad.Shutdown(SocketShutdown.Send);
            }

            Assert.That(await Sockets.ReadEndAsync(bad, ct), Is.EqualTo(SocketError.ConnectionReset));
        }

        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "pp"), ("reason", reason)) == 1, ct);
        Assert.That(echo.Accepted, Is.Zero, "nothing reached the target");
        Assert.That(logs.Messages(1220).Single(), Does.Contain($"PROXY protocol header from 127.0.0.1:").And.Contain($"rejected ({reason})"));

        // The listener goes on serving.
        using var good = await Sockets.ConnectAsync(port, ct);
        await good.SendAsync((byte[])[.. Header(1, Claimed, ClaimedDestination), .. "x"u8], SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(good, 1, ct), Is.EqualTo("x"u8.ToArray()));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Accept_ManyBadHeaders_OneLogLineEachCounted(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("pp", [port], echo.Target) with { AcceptProxyProtocol = true }), ct);

        for (var i = 0; i < 20; i++)
        {
            using var bad = await Sockets.ConnectAsync(port, ct);
            await bad.SendAsync("SSH-2.0-scanner\r\n"u8.ToArray(), SocketFlags.None, ct);
            await Sockets.ReadEndAsync(bad, ct);
        }

        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "pp"), ("reason", "proxy_malformed")) == 20, ct);
        Assert.That(logs.Count(1220), Is.EqualTo(1), "at most one line per 5 s per app");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Accept_SourceOutsideTrustedProxies_ResetAtOnceWithItsOwnReason(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        var logs = new TestLoggerFactory();
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(
            App("outside", [ports[0]], echo.Target) with { Bind = null, AcceptProxyProtocol = true, TrustedProxies = new EquatableList<string>(["10.0.0.0/8"]) },
            App("inside", [ports[1]], echo.Target) with { Bind = null, AcceptProxyProtocol = true, TrustedProxies = new EquatableList<string>(["127.0.0.0/8"]) }), ct);

        // Reset before anything is read: a valid header would change nothing. The default listener is
        // dual-stack, so the source arrives IPv4-mapped and must still match IPv4 ranges.
        Assert.That(await Sockets.ConnectAndReadEndAsync(ports[0], ct), Is.EqualTo(SocketError.ConnectionReset), "reset without reading anything");

        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "outside"), ("reason", "proxy_untrusted")) == 1, ct);
        Assert.That(logs.Messages(1220).Single(), Does.Contain("rejected (proxy_untrusted): the source is not in TrustedProxies"));

        using var trusted = await Sockets.ConnectAsync(ports[1], ct);
        await trusted.SendAsync((byte[])[.. Header(1, Claimed, ClaimedDestination), .. "y"u8], SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(trusted, 1, ct), Is.EqualTo("y"u8.ToArray()));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Accept_SniRuleAfterTheHeader_ReadsTheClientHelloThatFollows(CancellationToken ct)
    {
        await using var a = new EchoServer(greeting: "A\n");
        await using var b = new EchoServer(greeting: "B\n");
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], a.Target) with
        {
            AcceptProxyProtocol = true,
            Rules = new EquatableList<RuleConfig>([new RuleConfig
            {
                Match = new MatchConfig { Sni = new EquatableList<string>(["api.example.com"]) },
                Targets = new EquatableList<TargetConfig>([Target(b.Target)]),
            }]),
        }), ct);

        var hello = ClientHelloBuilder.Build("api.example.com");
        using var socket = await Sockets.ConnectAsync(port, ct);
        await socket.SendAsync((byte[])[.. Header(2, Claimed, ClaimedDestination), .. hello], SocketFlags.None, ct);
        var reply = await Sockets.ReadAsync(socket, 2 + hello.Length, ct);
        Assert.That(System.Text.Encoding.ASCII.GetString(reply, 0, 2), Is.EqualTo("B\n"));
        Assert.That(reply[2..], Is.EqualTo(hello), "the ClientHello reaches the target, the header does not");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Accept_ConsistentHash_HashesTheHeadersClient(CancellationToken ct)
    {
        await using var a = new EchoServer(greeting: "A\n");
        await using var b = new EchoServer(greeting: "B\n");
        await using var c = new EchoServer(greeting: "C\n");
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], a.Target, b.Target, c.Target) with { AcceptProxyProtocol = true, Strategy = "ConsistentHash" }), ct);

        async Task<string> GreetingAsync(string client)
        {
            using var socket = await Sockets.ConnectAsync(port, ct);
            await socket.SendAsync(Header(2, IPEndPoint.Parse(client), ClaimedDestination), SocketFlags.None, ct);
            return System.Text.Encoding.ASCII.GetString(await Sockets.ReadAsync(socket, 1, ct));
        }

        // Every real connection comes from 127.0.0.1: only the header's address can spread them.
        var seen = new HashSet<string>();
        for (var i = 1; i <= 30; i++)
        {
            seen.Add(await GreetingAsync($"198.18.{i}.{i}:1000"));
        }

        var first = await GreetingAsync("198.18.77.1:1000");
        Assert.Multiple(async () =>
        {
            Assert.That(seen, Has.Count.GreaterThan(1), "different claimed clients spread over the targets");
            Assert.That(await GreetingAsync("198.18.77.1:2000"), Is.EqualTo(first), "one claimed client, one target");
        });
    }

    [TestCase(ProxyProtocolVersion.V1, "127.0.0.1")]
    [TestCase(ProxyProtocolVersion.V2, "127.0.0.1")]
    [TestCase(ProxyProtocolVersion.V1, "::1")]
    [TestCase(ProxyProtocolVersion.V2, "::1")]
    [CancelAfter(30_000)]
    public async Task Send_TargetGetsTheClientsAddressThenItsBytes(ProxyProtocolVersion version, string client, CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], target.Target) with { ProxyProtocol = version, Bind = null }), ct);

        var address = IPAddress.Parse(client);
        using var socket = await Sockets.ConnectAsync(new IPEndPoint(address, port), ct);
        await socket.SendAsync("hello"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(socket, 5, ct), Is.EqualTo("hello"u8.ToArray()));

        var header = target.Headers.Single();
        Assert.Multiple(() =>
        {
            Assert.That(header.Version, Is.EqualTo((int)version));
            Assert.That(header.Source, Is.EqualTo(socket.LocalEndPoint), "the client's own address (IPv4-mapped sent as IPv4)");
            Assert.That(header.Destination, Is.EqualTo(new IPEndPoint(address, port)), "the address the client connected to");
        });
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Send_ServerThatSpeaksFirst_GetsTheHeaderBeforeTheClientSaysAnything(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback, greeting: "220 smtp ready\r\n");
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], target.Target) with { ProxyProtocol = ProxyProtocolVersion.V2 }), ct);

        using var socket = await Sockets.ConnectAsync(port, ct);
        Assert.That(await Sockets.ReadAsync(socket, 16, ct), Is.EqualTo("220 smtp ready\r\n"u8.ToArray()));
        await Wait.UntilAsync(() => target.Headers.Count > 0, ct);
        var header = target.Headers.Single();
        Assert.That(header.Source, Is.EqualTo(socket.LocalEndPoint));
        Assert.That(header.Destination, Is.EqualTo(new IPEndPoint(IPAddress.Loopback, port)), "the listener's own address (bound to 127.0.0.1)");
    }

    [TestCase(ProxyProtocolVersion.V1)]
    [TestCase(ProxyProtocolVersion.V2)]
    [CancelAfter(30_000)]
    public async Task AcceptAndSend_TheReceivedAddressesGoOn(ProxyProtocolVersion version, CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], target.Target) with { AcceptProxyProtocol = true, ProxyProtocol = version }), ct);

        var claimed = IPEndPoint.Parse("[2001:db8::7]:4444");
        var destination = IPEndPoint.Parse("[2001:db8::1]:443");
        using var socket = await Sockets.ConnectAsync(port, ct);
        await socket.SendAsync((byte[])[.. Header(version == ProxyProtocolVersion.V1 ? 2 : 1, claimed, destination), .. "z"u8], SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(socket, 1, ct), Is.EqualTo("z"u8.ToArray()));
        var header = target.Headers.Single();
        Assert.That((header.Version, header.Source, header.Destination), Is.EqualTo(((int)version, claimed, destination)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Send_RuleWithoutTheKeyInheritsTheApps_RuleWithItOverrides(CancellationToken ct)
    {
        await using var appTarget = new ProxyHeaderListener(IPAddress.Loopback);
        await using var ruleTarget = new ProxyHeaderListener(IPAddress.Loopback);
        await using var plain = new EchoServer();
        var ports = FreePorts(3);
        await using var daemon = DaemonFixture.Create();
        var app = App("pp", ports, appTarget.Target) with
        {
            ProxyProtocol = ProxyProtocolVersion.V1,
            Rules = new EquatableList<RuleConfig>(
            [
                new RuleConfig { Match = new MatchConfig { Ports = new EquatableList<int>([ports[1]]) }, Targets = new EquatableList<TargetConfig>([Target(ruleTarget.Target)]) },
                new RuleConfig
                {
                    Match = new MatchConfig { Ports = new EquatableList<int>([ports[2]]) },
                    Targets = new EquatableList<TargetConfig>([Target(plain.Target)]),
                    ProxyProtocol = ProxyProtocolVersion.None,
                },
            ]),
        };
        await daemon.ApplyAsync(Config(app), ct);

        Assert.That(await Probe.EchoAsync(ports[0], "a", ct), Is.EqualTo("a"));
        Assert.That(await Probe.EchoAsync(ports[1], "b", ct), Is.EqualTo("b"));
        Assert.That(await Probe.EchoAsync(ports[2], "c", ct), Is.EqualTo("c"), "no header: the plain echo echoes exactly what the client sent");
        Assert.That(appTarget.Headers.Single().Version, Is.EqualTo(1));
        Assert.That(ruleTarget.Headers.Single().Version, Is.EqualTo(1));
    }

    [TestCase(ProxyProtocolVersion.V1)]
    [TestCase(ProxyProtocolVersion.V2)]
    [CancelAfter(30_000)]
    public async Task HealthProbes_OfAnAppThatSendsHeaders_BeginWithALocalHeader(ProxyProtocolVersion version, CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("pp", [port], target.Target) with
        {
            ProxyProtocol = version,
            HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(100) },
        }), ct);

        await Wait.UntilAsync(() => target.Headers.Count >= 2, ct);
        Assert.That(target.Refused, Is.Zero, "no probe counted as an error by the target");
        Assert.That(target.Headers.Take(2).Select(static h => (h.Version, h.HasAddresses)), Is.All.EqualTo(((int)version, false)));
    }

    private static RuleConfig Rule(string cidr, string target) => new()
    {
        Match = new MatchConfig { SourceCidrs = new EquatableList<string>([cidr]) },
        Targets = new EquatableList<TargetConfig>([Target(target)]),
    };

    private static byte[] Header(int version, IPEndPoint source, IPEndPoint destination)
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        return buffer[..ProxyHeaderWriter.Write(buffer, version, source, destination)];
    }
}
