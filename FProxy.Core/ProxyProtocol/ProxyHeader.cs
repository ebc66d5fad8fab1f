using System.Net;

namespace FProxy.ProxyProtocol;

/// <summary>
/// A parsed PROXY protocol header. <see cref="Addresses"/> is set for a TCP over IPv4 or IPv6
/// header with the PROXY command; every other kind (v2 LOCAL, UNSPEC, UNIX or UDP, v1 UNKNOWN)
/// leaves it null, and the connection keeps its own addresses.
/// </summary>
/// <param name="Version">1 (text) or 2 (binary).</param>
/// <param name="Command">Whether the addresses are a client's.</param>
/// <param name="Addresses">The client's and the destination's addresses, or null.</param>
internal readonly record struct ProxyHeader(int Version, ProxyCommand Command, ProxyAddresses? Addresses)
{
    /// <summary>Whether the header's addresses replace the connection's own.</summary>
    public bool HasAddresses => Addresses.HasValue;

    /// <summary>The client's address and port, or null (made on each call: for tests and tools).</summary>
    public IPEndPoint? Source => Addresses?.SourceEndPoint();

    /// <summary>The address and port the client connected to, or null (made on each call).</summary>
    public IPEndPoint? Destination => Addresses?.DestinationEndPoint();
}
