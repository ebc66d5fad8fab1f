using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace FProxy.ProxyProtocol;

/// <summary>
/// The two ends a PROXY protocol header carries, as plain values: a connection keeps them without
/// allocating, and makes <see cref="IPEndPoint"/>s only when something asks for one. Both ends
/// have one family, as in a header: IPv4 (the address in the low 32 bits) or IPv6.
/// </summary>
/// <param name="IsIPv4">IPv4 (TCP4) or IPv6 (TCP6).</param>
/// <param name="Source">The client's address, big-endian.</param>
/// <param name="SourcePort">The client's port.</param>
/// <param name="Destination">The address the client connected to, big-endian.</param>
/// <param name="DestinationPort">The port the client connected to.</param>
internal readonly record struct ProxyAddresses(bool IsIPv4, UInt128 Source, ushort SourcePort, UInt128 Destination, ushort DestinationPort)
{
    private static readonly UInt128 MappedPrefix = new(0, 0xFFFF_0000_0000UL);
    private static readonly UInt128 MappedMask = new(ulong.MaxValue, 0xFFFF_FFFF_0000_0000UL);

    /// <summary>The length of one address in a header: 4 or 16 bytes.</summary>
    public int AddressLength => IsIPv4 ? 4 : 16;

    /// <summary>
    /// From two endpoints. IPv4-mapped IPv6 addresses become IPv4 when both ends are IPv4 (or
    /// mapped); when only one is, both go as IPv6 (a header carries one family). Scopes are dropped.
    /// </summary>
    public static ProxyAddresses From(IPEndPoint source, IPEndPoint destination)
    {
        var from = Read(source.Address, out var fromIsV4);
        var to = Read(destination.Address, out var toIsV4);
        return Combine(from, fromIsV4, (ushort)source.Port, to, toIsV4, (ushort)destination.Port);
    }

    /// <summary>From two Linux sockaddr_in / sockaddr_in6 buffers (accept4's peer, getsockname's local); false for other families.</summary>
    public static bool TryFromSockAddrs(ReadOnlySpan<byte> peer, ReadOnlySpan<byte> local, out ProxyAddresses addresses)
    {
        addresses = default;
        if (!TryRead(peer, out var from, out var fromIsV4, out var fromPort) || !TryRead(local, out var to, out var toIsV4, out var toPort))
        {
            return false;
        }

        addresses = Combine(from, fromIsV4, fromPort, to, toIsV4, toPort);
        return true;
    }

    /// <summary>
    /// The same ends as a header FProxy sends them: IPv4-mapped IPv6 addresses as IPv4 when both
    /// ends are (a v2 header received may carry them as IPv6).
    /// </summary>
    public ProxyAddresses Normalized()
    {
        if (IsIPv4)
        {
            return this;
        }

        var from = Normalize(Source, false, out var fromIsV4);
        var to = Normalize(Destination, false, out var toIsV4);
        return fromIsV4 && toIsV4 ? new ProxyAddresses(true, from, SourcePort, to, DestinationPort) : this;
    }

    /// <summary>The client's endpoint, made on demand.</summary>
    public IPEndPoint SourceEndPoint() => new(ToAddress(Source), SourcePort);

    /// <summary>The endpoint the client connected to, made on demand.</summary>
    public IPEndPoint DestinationEndPoint() => new(ToAddress(Destination), DestinationPort);

    /// <summary>Writes <paramref name="address"/> (<see cref="Source"/> or <see cref="Destination"/>) in network order: <see cref="AddressLength"/> bytes.</summary>
    public void WriteAddress(UInt128 address, Span<byte> buffer)
    {
        if (IsIPv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)address);
        }
        else
        {
            BinaryPrimitives.WriteUInt128BigEndian(buffer, address);
        }
    }

    /// <summary>An address from <see cref="AddressLength"/> bytes in network order.</summary>
    public static UInt128 ReadAddress(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);

    private IPAddress ToAddress(UInt128 value)
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteAddress(value, bytes);
        return new IPAddress(bytes[..AddressLength]);
    }

    private static ProxyAddresses Combine(UInt128 from, bool fromIsV4, ushort fromPort, UInt128 to, bool toIsV4, ushort toPort)
    {
        if (fromIsV4 && toIsV4)
        {
            return new ProxyAddresses(true, from, fromPort, to, toPort);
        }

        return new ProxyAddresses(false, fromIsV4 ? MappedPrefix | from : from, fromPort, toIsV4 ? MappedPrefix | to : to, toPort);
    }

    /// <summary>The address as 128 bits; IPv4 and IPv4-mapped IPv6 as the 32-bit IPv4 value.</summary>
    private static UInt128 Read(IPAddress address, out bool isV4)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var length);
        return Normalize(ReadAddress(bytes[..length]), length == 4, out isV4);
    }

    private static bool TryRead(ReadOnlySpan<byte> sockaddr, out UInt128 address, out bool isV4, out ushort port)
    {
        port = BinaryPrimitives.ReadUInt16BigEndian(sockaddr[2..]);
        switch (BinaryPrimitives.ReadUInt16LittleEndian(sockaddr))
        {
            case (ushort)AddressFamily.InterNetwork:
                address = Normalize(ReadAddress(sockaddr.Slice(4, 4)), true, out isV4);
                return true;
            case 10: // AF_INET6 on Linux.
                address = Normalize(ReadAddress(sockaddr.Slice(8, 16)), false, out isV4);
                return true;
            default:
                address = default;
                isV4 = false;
                return false;
        }
    }

    private static UInt128 Normalize(UInt128 address, bool v4, out bool isV4)
    {
        isV4 = v4 || (address & MappedMask) == MappedPrefix;
        return isV4 ? address & uint.MaxValue : address;
    }
}
