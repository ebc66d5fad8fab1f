using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.ProxyProtocol;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.ProxyProtocol;

/// <summary>
/// FProxy's header parser against a real HAProxy (<c>send-proxy</c>, <c>send-proxy-v2</c>) in
/// front of a plain test listener, without FProxy's daemon: the parser reads HAProxy's header, the
/// real client as the source and HAProxy's frontend as the destination, for IPv4 and IPv6 clients,
/// and the client's bytes follow it intact, both ways.
/// </summary>
[Category("Interop")]
internal sealed class HaproxyInteropTests
{
    [TestCase(1, AddressFamily.InterNetwork)]
    [TestCase(1, AddressFamily.InterNetworkV6)]
    [TestCase(2, AddressFamily.InterNetwork)]
    [TestCase(2, AddressFamily.InterNetworkV6)]
    [CancelAfter(30_000)]
    public async Task SendProxy_ClientThroughHaproxy_HeaderCarriesTheClientAndTheFrontend(int version, AddressFamily family, CancellationToken ct)
    {
        using var listener = new ProxiedConnectionListener();
        await using var haproxy = await HaproxyServer.StartAsync(listener.EndPoint, version);
        var request = Encoding.ASCII.GetBytes("the client's own bytes\r\n\0\r\n");

        using var client = await Sockets.ConnectAsync(haproxy.EndPoint(family), ct);
        await client.SendAsync(request, SocketFlags.None, ct);
        client.Shutdown(SocketShutdown.Send);
        var (server, header, _, received) = await listener.AcceptFromAsync((IPEndPoint)client.LocalEndPoint!, ct);
        using (server)
        {
            Assert.Multiple(() =>
            {
                Assert.That(header.Version, Is.EqualTo(version));
                Assert.That(header.Command, Is.EqualTo(ProxyCommand.Proxy));
                Assert.That(header.Source, Is.EqualTo(client.LocalEndPoint), "the real client");
                Assert.That(header.Destination, Is.EqualTo(haproxy.EndPoint(family)), "the frontend it connected to");
            });

            received.AddRange(await Sockets.ReadToEndAsync(server, ct));
            Assert.That(received, Is.EqualTo(request), "the client's bytes after the header");

            await server.SendAsync("reply\n"u8.ToArray(), SocketFlags.None, ct);
            server.Shutdown(SocketShutdown.Send);
            Assert.That(await Sockets.ReadToEndAsync(client, ct), Is.EqualTo("reply\n"u8.ToArray()));
        }
    }

    /// <summary>A v2 header with TLVs after the addresses (a unique id, a CRC32c): the parser skips them, and the client's bytes follow.</summary>
    [TestCase(AddressFamily.InterNetwork)]
    [TestCase(AddressFamily.InterNetworkV6)]
    [CancelAfter(30_000)]
    public async Task SendProxyV2_WithTlvs_ParserSkipsThemAndKeepsTheAddresses(AddressFamily family, CancellationToken ct)
    {
        using var listener = new ProxiedConnectionListener();
        await using var haproxy = await HaproxyServer.StartAsync(listener.EndPoint, 2, tlvs: true);

        using var client = await Sockets.ConnectAsync(haproxy.EndPoint(family), ct);
        await client.SendAsync("after the TLVs\n"u8.ToArray(), SocketFlags.None, ct);
        client.Shutdown(SocketShutdown.Send);
        var (server, header, headerBytes, received) = await listener.AcceptFromAsync((IPEndPoint)client.LocalEndPoint!, ct);
        using (server)
        {
            var addressLength = family == AddressFamily.InterNetworkV6 ? 36 : 12;
            Assert.Multiple(() =>
            {
                Assert.That(headerBytes, Has.Length.GreaterThan(ProxyHeaderParser.V2FixedLength + addressLength), "HAProxy sent TLVs");
                Assert.That(header.Source, Is.EqualTo(client.LocalEndPoint));
                Assert.That(header.Destination, Is.EqualTo(haproxy.EndPoint(family)));
            });
            received.AddRange(await Sockets.ReadToEndAsync(server, ct));
            Assert.That(received, Is.EqualTo("after the TLVs\n"u8.ToArray()));
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Stop_Running_ExitsAndFreesItsPorts()
    {
        await using var target = new EchoServer();
        await using var haproxy = await HaproxyServer.StartAsync(target.EndPoint, 2);

        var status = await haproxy.StopAsync();

        Assert.That(status, Is.EqualTo(0).Or.EqualTo(143), $"haproxy's exit status; output:{Environment.NewLine}{haproxy.Output}");
        Assert.That(FProxy.Tests.Host.HostProcess.Accepts(haproxy.EndPoint()), Is.False);
        Assert.That(FProxy.Tests.Host.HostProcess.Accepts(haproxy.EndPoint(AddressFamily.InterNetworkV6)), Is.False);
    }
}
