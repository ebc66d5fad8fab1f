using System.Net;

namespace FProxy.ProxyProtocol;

/// <summary>
/// A parsed PROXY protocol header. <see cref="Source"/> and <see cref="Destination"/> are set for a
/// TCP over IPv4 or IPv6 header with the PROXY command; every other kind (v2 LOCAL, UNSPEC, UNIX
/// or UDP, v1 UNKNOWN) leaves them null, and the connection keeps its own addresses.
/// </summary>
/// <param name="Version">1 (text) or 2 (binary).</param>
/// <param name="Command">Whether the addresses are a client's.</param>
/// <param name="Source">The client's address and port, or null.</param>
/// <param name="Destination">The address and port the client connected to, or null.</param>
internal readonly record struct ProxyHeader(int Version, ProxyCommand Command, IPEndPoint? Source, IPEndPoint? Destination)
{
    /// <summary>Whether the header's addresses replace the connection's own.</summary>
    public bool HasAddresses => Source is not null;
}
