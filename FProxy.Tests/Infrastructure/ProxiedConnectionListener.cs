using System.Net;
using System.Net.Sockets;
using FProxy.ProxyProtocol;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A loopback listener whose connections begin with a PROXY protocol header, read with FProxy's
/// own parser: the last hop of a test whose peers (HAProxy, FProxy) send one. It picks out the
/// connection of one client by the source its header names, since a peer in front may relay other
/// connections too (the probes that waited for it to accept). Connections it has not accepted
/// wait in its backlog until it is disposed: dispose it before a proxy in front of it drains.
/// </summary>
internal sealed class ProxiedConnectionListener : IDisposable
{
    private readonly Socket _socket;

    public ProxiedConnectionListener()
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Listen(64);
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>How the config names this listener as a target.</summary>
    public string Target => $"{EndPoint.Address}:{EndPoint.Port}";

    /// <summary>
    /// Accepts until a connection's header names <paramref name="client"/> as its source, and
    /// returns it with its header, the header's bytes, and the bytes read past the header; fails
    /// on an invalid header. Other connections are closed.
    /// </summary>
    public async Task<(Socket Connection, ProxyHeader Header, byte[] HeaderBytes, List<byte> AfterHeader)> AcceptFromAsync(IPEndPoint client, CancellationToken ct)
    {
        while (true)
        {
            var connection = await _socket.AcceptAsync(ct);
            var data = new List<byte>();
            var buffer = new byte[4096];
            while (true)
            {
                var status = ProxyHeaderParser.TryParse(data.ToArray(), out var header, out var consumed, out var reason);
                if (status == ProxyParseStatus.Invalid)
                {
                    connection.Dispose();
                    Assert.Fail($"not a valid PROXY protocol header ({reason}): {Convert.ToHexString([.. data])}");
                }

                if (status == ProxyParseStatus.Done)
                {
                    if (client.Equals(header.Source))
                    {
                        return (connection, header, [.. data[..consumed]], data[consumed..]);
                    }

                    break;
                }

                int n;
                try
                {
                    n = await connection.ReceiveAsync(buffer, SocketFlags.None, ct);
                }
                catch (SocketException)
                {
                    n = 0;
                }

                if (n == 0)
                {
                    break;
                }

                data.AddRange(buffer.AsSpan(0, n));
            }

            connection.Dispose();
        }
    }

    public void Dispose() => _socket.Dispose();
}
