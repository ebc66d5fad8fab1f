using System.Net;
using FProxy.ProxyProtocol;

namespace FProxy.FTest.Net;

/// <summary>
/// The PROXY protocol header ftest opens a connection with (<c>--proxy-protocol</c>,
/// <c>--source</c>), as a proxy in front of the target would. FProxy.Core's own writer makes it,
/// so the tool sends exactly what FProxy sends and reads.
/// </summary>
/// <param name="Version">1 (text) or 2 (binary).</param>
/// <param name="Source">The client address to claim; null claims the socket's own local address.</param>
internal sealed record ProxyClaim(int Version, IPEndPoint? Source)
{
    /// <summary>The header for one connection, and what it says once on the wire.</summary>
    /// <param name="local">The connected socket's own address: the source when none is claimed.</param>
    /// <param name="remote">The address connected to: always the destination.</param>
    /// <param name="sent">The header as its bytes read back. The writer may change the family (an
    /// IPv4 source with an IPv6 destination goes out as IPv4-mapped IPv6), and reports should show
    /// what went out, not what was asked for.</param>
    public byte[] Header(IPEndPoint local, IPEndPoint remote, out ProxyHeader sent)
    {
        Span<byte> buffer = stackalloc byte[ProxyHeaderWriter.MaxLength];
        var length = ProxyHeaderWriter.Write(buffer, Version, Source ?? local, remote);
        var header = buffer[..length];
        ProxyHeaderParser.TryParse(header, out sent, out _, out _);
        return header.ToArray();
    }
}
