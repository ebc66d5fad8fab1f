using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.ProxyProtocol;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.ProxyProtocol;

/// <summary>
/// FProxy's header writer against a real nginx (<c>listen ... proxy_protocol</c>), without
/// FProxy's daemon: the addresses a written header claims are the ones nginx reads, over IPv4 and
/// IPv6 connections, for both versions; and the fixture itself behaves as the end-to-end tests
/// rely on.
/// </summary>
[Category("Interop")]
internal sealed class NginxInteropTests
{
    /// <summary>
    /// Both address families over both kinds of connection, and IPv6 addresses whose v1 text the
    /// writer shortens by hand (RFC 5952: the longest run of zero groups, the first of equal runs,
    /// a lone zero group kept, mapped IPv4 dotted), which nginx must read back as the same
    /// addresses. Port 0 is left out: nginx prints <c>$proxy_protocol_port</c> only for 1 to 65535.
    /// </summary>
    [TestCase(1, "192.0.2.10:40001", "198.51.100.20:443", AddressFamily.InterNetwork)]
    [TestCase(1, "192.0.2.10:40001", "198.51.100.20:443", AddressFamily.InterNetworkV6)]
    [TestCase(1, "[2001:db8::10]:40001", "[2001:db8::20]:443", AddressFamily.InterNetwork)]
    [TestCase(1, "[2001:db8::10]:40001", "[2001:db8::20]:443", AddressFamily.InterNetworkV6)]
    [TestCase(2, "192.0.2.10:40001", "198.51.100.20:443", AddressFamily.InterNetwork)]
    [TestCase(2, "192.0.2.10:40001", "198.51.100.20:443", AddressFamily.InterNetworkV6)]
    [TestCase(2, "[2001:db8::10]:40001", "[2001:db8::20]:443", AddressFamily.InterNetwork)]
    [TestCase(2, "[2001:db8::10]:40001", "[2001:db8::20]:443", AddressFamily.InterNetworkV6)]
    [TestCase(1, "[2001:db8::10]:65535", "[::1]:1", AddressFamily.InterNetworkV6)]
    [TestCase(2, "[2001:db8::10]:65535", "[::1]:1", AddressFamily.InterNetworkV6)]
    [TestCase(1, "0.0.0.0:1", "255.255.255.255:65535", AddressFamily.InterNetwork)]
    [TestCase(1, "[2001:db8:0:0:1:0:0:1]:1", "[2001:db8:1:2:3:4:5:6]:2", AddressFamily.InterNetwork)]
    [TestCase(2, "[2001:db8:0:0:1:0:0:1]:1", "[2001:db8:1:2:3:4:5:6]:2", AddressFamily.InterNetwork)]
    [TestCase(1, "[::]:1", "[fe80::1:2]:2", AddressFamily.InterNetwork)]
    [TestCase(1, "[::ffff:192.0.2.1]:1", "[2001:db8::2]:2", AddressFamily.InterNetwork)]
    [TestCase(2, "[::ffff:192.0.2.1]:1", "[2001:db8::2]:2", AddressFamily.InterNetwork)]
    [TestCase(1, "[1:0:0:2:0:0:0:3]:1", "[0:0:1::]:2", AddressFamily.InterNetwork)]
    [TestCase(1, "[2001:db8:0:1:1:1:1:1]:1", "[1:0:0:2:0:0:3:4]:2", AddressFamily.InterNetwork)]
    [CancelAfter(30_000)]
    public async Task ProxyProtocolListener_WrittenHeader_ReadsTheClaimedAddresses(
        int version, string source, string destination, AddressFamily connectOver, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();

        var reply = await NginxServer.AskAsync(nginx.ProxyProtocolEndPoint(connectOver), Header(version, IPEndPoint.Parse(source), IPEndPoint.Parse(destination)), ct);

        Assert.That(reply, Is.Not.Empty, $"nginx refused the header; its log:{Environment.NewLine}{nginx.Output}");
        var (claimedSource, claimedDestination) = NginxServer.ParseReply(reply);
        Assert.Multiple(() =>
        {
            Assert.That(claimedSource, Is.EqualTo(IPEndPoint.Parse(source)));
            Assert.That(claimedDestination, Is.EqualTo(IPEndPoint.Parse(destination)));
        });
    }

    /// <summary>
    /// A dual-stack listener sees an IPv4 client as <c>::ffff:a.b.c.d</c>: the writer sends it as
    /// IPv4 (TCP4, or v2's AF_INET), which is what nginx then reports.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [CancelAfter(30_000)]
    public async Task ProxyProtocolListener_MappedIPv4Addresses_ReadsPlainIPv4(int version, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();

        var header = Header(version, IPEndPoint.Parse("[::ffff:192.0.2.10]:40001"), IPEndPoint.Parse("[::ffff:198.51.100.20]:443"));
        var (source, destination) = NginxServer.ParseReply(await NginxServer.AskAsync(nginx.ProxyProtocolEndPoint(), header, ct));

        Assert.That(source, Is.EqualTo(IPEndPoint.Parse("192.0.2.10:40001")));
        Assert.That(destination, Is.EqualTo(IPEndPoint.Parse("198.51.100.20:443")));
    }

    /// <summary>
    /// The header of FProxy's own connections (a health probe's): v2 LOCAL, v1 <c>PROXY UNKNOWN</c>.
    /// nginx takes the connection and reports no client, so a probe of such a target succeeds.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [CancelAfter(30_000)]
    public async Task ProxyProtocolListener_LocalHeader_AcceptedWithoutAddresses(int version, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        var length = ProxyHeaderWriter.WriteLocal(buffer, version);

        var reply = await NginxServer.AskAsync(nginx.ProxyProtocolEndPoint(), buffer.AsMemory(0, length), ct);

        Assert.That(reply, Is.EqualTo(": :"), $"nginx's log:{Environment.NewLine}{nginx.Output}");
    }

    [TestCase("GET / HTTP/1.1\r\n\r\n")]
    [TestCase("PROXY TCP4 192.0.2.10 198.51.100.20 40001\r\n")]
    [CancelAfter(30_000)]
    public async Task ProxyProtocolListener_NoValidHeader_ClosesWithoutAnAnswer(string first, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();

        var reply = await NginxServer.AskAsync(nginx.ProxyProtocolEndPoint(), Encoding.ASCII.GetBytes(first), ct);

        Assert.That(reply, Is.Empty, "what the end-to-end tests see when FProxy sends no header");
        await Wait.UntilAsync(() => nginx.Output.Contains("broken header", StringComparison.Ordinal), ct);
    }

    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    [CancelAfter(30_000)]
    public async Task PlainListener_AnyClient_AnswersTheRealPeer(AddressFamily family, CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();
        using var client = await Sockets.ConnectAsync(nginx.PlainEndPoint(family), ct);

        var (source, destination) = NginxServer.ParseReply(await NginxServer.AskAsync(client, ReadOnlyMemory<byte>.Empty, ct));

        Assert.That(source, Is.EqualTo(client.LocalEndPoint));
        Assert.That(destination, Is.EqualTo(nginx.PlainEndPoint(family)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Stop_Running_ExitsCleanlyAndFreesItsPorts(CancellationToken ct)
    {
        await using var nginx = await NginxServer.StartAsync();
        var answer = await NginxServer.AskAsync(nginx.PlainEndPoint(), ReadOnlyMemory<byte>.Empty, ct);
        Assert.That(answer, Is.Not.Empty);

        await nginx.StopAsync();

        Assert.That(FProxy.Tests.Host.HostProcess.Accepts(nginx.ProxyProtocolEndPoint()), Is.False);
        Assert.That(FProxy.Tests.Host.HostProcess.Accepts(nginx.PlainEndPoint(AddressFamily.InterNetworkV6)), Is.False);
    }

    private static byte[] Header(int version, IPEndPoint source, IPEndPoint destination)
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        return buffer[..ProxyHeaderWriter.Write(buffer, version, source, destination)];
    }
}
