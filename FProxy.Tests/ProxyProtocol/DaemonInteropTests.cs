using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.Configuration;
using FProxy.ProxyProtocol;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.ProxyProtocol;

/// <summary>
/// FProxy's daemon between real PROXY protocol peers: nginx as the target of an app that sends a
/// header, HAProxy in front of an app that accepts one (routing on and logging the client it
/// names), and both in one chain, HAProxy → FProxy → nginx, carrying the original client end to
/// end. IPv4 and IPv6 clients; the HAProxy it sits behind connects from 127.0.0.1 either way.
/// </summary>
[Category("Interop")]
internal sealed class DaemonInteropTests
{
    private const int AccessLogEvent = 1250;

    private static readonly EquatableList<string> TrustLoopback = new(["127.0.0.1/32"]);

    /// <summary>
    /// The app listens on <paramref name="bind"/> (null: dual-stack, where an IPv4 client is
    /// <c>::ffff:127.0.0.1</c> and the header must still say 127.0.0.1); nginx reads the header
    /// FProxy sends and answers with the client and the address it connected to.
    /// </summary>
    [TestCase(ProxyProtocolVersion.V1, "127.0.0.1", AddressFamily.InterNetwork)]
    [TestCase(ProxyProtocolVersion.V1, "::1", AddressFamily.InterNetworkV6)]
    [TestCase(ProxyProtocolVersion.V1, null, AddressFamily.InterNetwork)]
    [TestCase(ProxyProtocolVersion.V1, null, AddressFamily.InterNetworkV6)]
    [TestCase(ProxyProtocolVersion.V2, "127.0.0.1", AddressFamily.InterNetwork)]
    [TestCase(ProxyProtocolVersion.V2, "::1", AddressFamily.InterNetworkV6)]
    [TestCase(ProxyProtocolVersion.V2, null, AddressFamily.InterNetwork)]
    [TestCase(ProxyProtocolVersion.V2, null, AddressFamily.InterNetworkV6)]
    [CancelAfter(30_000)]
    public async Task SendProxyProtocol_NginxTarget_AnswersWithTheRealClient(ProxyProtocolVersion version, string? bind, AddressFamily family, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = App("to-nginx", [port], $"127.0.0.1:{nginx.ProxyProtocolPort}") with
        {
            Bind = bind is null ? null : IPAddress.Parse(bind),
            ProxyProtocol = version,
        };
        await daemon.ApplyAsync(Config(app), ct);

        using var client = await Sockets.ConnectAsync(new IPEndPoint(Loopback(family), port), ct);
        var reply = await NginxServer.AskAsync(client, ReadOnlyMemory<byte>.Empty, ct);

        Assert.That(reply, Is.Not.Empty, $"nginx closed without an answer (no valid header); its log:{Environment.NewLine}{nginx.Output}");
        var (source, destination) = NginxServer.ParseReply(reply);
        Assert.Multiple(() =>
        {
            Assert.That(source, Is.EqualTo(client.LocalEndPoint), "the client");
            Assert.That(destination, Is.EqualTo(client.RemoteEndPoint), "the address the client connected to");
        });
    }

    /// <summary>
    /// HAProxy connects to FProxy from 127.0.0.1 for every client; only the header tells an IPv6
    /// client apart, so the ::1/128 rule proves FProxy routed on it. The access log names the
    /// client, port and all, that HAProxy saw.
    /// </summary>
    [TestCase(1, AddressFamily.InterNetwork, "4")]
    [TestCase(1, AddressFamily.InterNetworkV6, "6")]
    [TestCase(2, AddressFamily.InterNetwork, "4")]
    [TestCase(2, AddressFamily.InterNetworkV6, "6")]
    [CancelAfter(30_000)]
    public async Task AcceptProxyProtocol_BehindHaproxy_RoutesAndLogsTheClientItNames(int version, AddressFamily family, string expected, CancellationToken ct)
    {
        await using var v4 = new EchoServer(greeting: "4\n");
        await using var v6 = new EchoServer(greeting: "6\n");
        await using var neither = new EchoServer(greeting: "neither\n");
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var app = App("behind-haproxy", [port], neither.Target) with
        {
            AcceptProxyProtocol = true,
            TrustedProxies = TrustLoopback,
            AccessLog = true,
            Rules = new EquatableList<RuleConfig>(
            [
                Rule("127.0.0.1/32", v4.Target),
                Rule("::1/128", v6.Target),
            ]),
        };
        await daemon.ApplyAsync(Config(app), ct);
        await using var haproxy = await HaproxyServer.StartAsync(new IPEndPoint(IPAddress.Loopback, port), version);

        using var client = await Sockets.ConnectAsync(haproxy.EndPoint(family), ct);
        var clientEnd = (IPEndPoint)client.LocalEndPoint!;
        var greeting = await ReadLineAsync(client, ct);
        await EndAsync(client, ct);

        Assert.That(greeting, Is.EqualTo(expected), "the rule for the client's address, not HAProxy's");
        var target = expected == "4" ? v4.Target : v6.Target;
        var line = await AccessLineAsync(logs, clientEnd, ct);
        Assert.That(line, Does.StartWith($"behind-haproxy port={port} client={clientEnd} target={target} "));
    }

    /// <summary>
    /// HAProxy → FProxy (accepting a header, sending one) → nginx: nginx answers with the client
    /// that connected to HAProxy and the HAProxy frontend it connected to, which FProxy only
    /// knows from the header it accepted. nginx's answer alone would not tell FProxy's header from
    /// HAProxy's passed through untouched; the access log line, with the client's own port, does
    /// (and <see cref="Chain_HaproxyFProxyListener_FProxysOwnHeaderThenTheClientsBytes"/>
    /// reads the bytes).
    /// </summary>
    [TestCase(1, ProxyProtocolVersion.V2, AddressFamily.InterNetwork)]
    [TestCase(1, ProxyProtocolVersion.V2, AddressFamily.InterNetworkV6)]
    [TestCase(2, ProxyProtocolVersion.V2, AddressFamily.InterNetwork)]
    [TestCase(2, ProxyProtocolVersion.V2, AddressFamily.InterNetworkV6)]
    [TestCase(2, ProxyProtocolVersion.V1, AddressFamily.InterNetworkV6)]
    [CancelAfter(30_000)]
    public async Task Chain_HaproxyFProxyNginx_CarriesTheOriginalClientEndToEnd(int inVersion, ProxyProtocolVersion outVersion, AddressFamily family, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var app = App("chain", [port], $"127.0.0.1:{nginx.ProxyProtocolPort}") with
        {
            AcceptProxyProtocol = true,
            TrustedProxies = TrustLoopback,
            ProxyProtocol = outVersion,
            AccessLog = true,
        };
        await daemon.ApplyAsync(Config(app), ct);
        await using var haproxy = await HaproxyServer.StartAsync(new IPEndPoint(IPAddress.Loopback, port), inVersion);

        using var client = await Sockets.ConnectAsync(haproxy.EndPoint(family), ct);
        var clientEnd = (IPEndPoint)client.LocalEndPoint!;
        var reply = await NginxServer.AskAsync(client, ReadOnlyMemory<byte>.Empty, ct);
        await EndAsync(client, ct);

        Assert.That(reply, Is.Not.Empty, $"nginx closed without an answer (no valid header); its log:{Environment.NewLine}{nginx.Output}");
        var (source, destination) = NginxServer.ParseReply(reply);
        Assert.Multiple(() =>
        {
            Assert.That(source, Is.EqualTo(clientEnd), "the client that connected to HAProxy");
            Assert.That(destination, Is.EqualTo(haproxy.EndPoint(family)), "the HAProxy frontend it connected to, as HAProxy's header named it");
        });
        var line = await AccessLineAsync(logs, clientEnd, ct);
        Assert.That(line, Does.StartWith($"chain port={port} client={clientEnd} target=127.0.0.1:{nginx.ProxyProtocolPort} "));
    }

    /// <summary>
    /// HAProxy → FProxy → a listener that reads the bytes: exactly the header FProxy's writer makes
    /// for the client and the HAProxy frontend, in the version FProxy was told to send (not
    /// HAProxy's passed on: its TLVs, when it sends some, must not reach the target); then the
    /// client's bytes exactly, a header-like line among them, both ways.
    /// </summary>
    [TestCase(1, false, ProxyProtocolVersion.V2, AddressFamily.InterNetwork)]
    [TestCase(2, false, ProxyProtocolVersion.V1, AddressFamily.InterNetworkV6)]
    [TestCase(2, true, ProxyProtocolVersion.V2, AddressFamily.InterNetwork)]
    [TestCase(2, true, ProxyProtocolVersion.V2, AddressFamily.InterNetworkV6)]
    [CancelAfter(30_000)]
    public async Task Chain_HaproxyFProxyListener_FProxysOwnHeaderThenTheClientsBytes(
        int inVersion, bool tlvs, ProxyProtocolVersion outVersion, AddressFamily family, CancellationToken ct)
    {
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();

        // Disposed before the daemon: connections it never accepted (relayed probes) are reset
        // then, rather than held open through the daemon's drain.
        using var listener = new ProxiedConnectionListener();
        var app = App("chain", [port], listener.Target) with { AcceptProxyProtocol = true, TrustedProxies = TrustLoopback, ProxyProtocol = outVersion };
        await daemon.ApplyAsync(Config(app), ct);
        await using var haproxy = await HaproxyServer.StartAsync(new IPEndPoint(IPAddress.Loopback, port), inVersion, tlvs);
        var request = Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\nthe client's own bytes, a header-like line first\n");

        using var client = await Sockets.ConnectAsync(haproxy.EndPoint(family), ct);
        var clientEnd = (IPEndPoint)client.LocalEndPoint!;
        await client.SendAsync(request, SocketFlags.None, ct);
        client.Shutdown(SocketShutdown.Send);
        var (server, _, headerBytes, received) = await listener.AcceptFromAsync(clientEnd, ct);
        using (server)
        {
            var expected = new byte[ProxyHeaderWriter.MaxLength];
            var length = ProxyHeaderWriter.Write(expected, (int)outVersion, clientEnd, haproxy.EndPoint(family));
            Assert.That(Convert.ToHexString(headerBytes), Is.EqualTo(Convert.ToHexString(expected, 0, length)), "FProxy's own header for the client and the frontend");

            received.AddRange(await Sockets.ReadToEndAsync(server, ct));
            Assert.That(Encoding.ASCII.GetString([.. received]), Is.EqualTo(Encoding.ASCII.GetString(request)), "the client's bytes, with no second header before them");

            await server.SendAsync("reply\n"u8.ToArray(), SocketFlags.None, ct);
            server.Shutdown(SocketShutdown.Send);
            Assert.That(await Sockets.ReadToEndAsync(client, ct), Is.EqualTo("reply\n"u8.ToArray()));
        }
    }

    private static RuleConfig Rule(string cidr, string target) => new()
    {
        Match = new MatchConfig { SourceCidrs = new EquatableList<string>([cidr]) },
        Targets = new EquatableList<TargetConfig>([Target(target)]),
    };

    /// <summary>
    /// The access log line of <paramref name="client"/>'s connection, once it has ended (within
    /// 10 s). HAProxy relays the probes that waited for its frontend too, so other lines may come first.
    /// </summary>
    private static async Task<string> AccessLineAsync(TestLoggerFactory logs, IPEndPoint client, CancellationToken ct)
    {
        var field = $" client={client} ";
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await Wait.UntilAsync(() => logs.Messages(AccessLogEvent).Any(m => m.Contains(field, StringComparison.Ordinal)), deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var seen = string.Join(Environment.NewLine, logs.Messages(AccessLogEvent));
            Assert.Fail($"no access log line with\"{field}\" within 10 s; the lines:{Environment.NewLine}{seen}");
        }

        return logs.Messages(AccessLogEvent).First(m => m.Contains(field, StringComparison.Ordinal));
    }

    /// <summary>A line from the target (its greeting), without the LF; "" when the connection ended first.</summary>
    private static async Task<string> ReadLineAsync(Socket socket, CancellationToken ct)
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (await socket.ReceiveAsync(one, SocketFlags.None, ct) == 1 && one[0] != (byte)'\n')
        {
            line.Add(one[0]);
        }

        return Encoding.ASCII.GetString([.. line]);
    }

    /// <summary>Ends the client's side and waits for the other's, so the connection is over and logged.</summary>
    private static async Task EndAsync(Socket client, CancellationToken ct)
    {
        client.Shutdown(SocketShutdown.Send);
        await Sockets.ReadEndAsync(client, ct);
    }

    private static IPAddress Loopback(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
}
