using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.ProxyProtocol;

/// <summary>
/// Writes PROXY protocol headers, version 1 or 2, into a caller's buffer without allocating. An
/// IPv4-mapped IPv6 address goes out as IPv4 when both ends map; when only one is IPv4, both go out
/// as IPv6 (a header carries one family).
/// </summary>
internal static class ProxyHeaderWriter
{
    /// <summary>Room enough for any header this writer makes (v2 with IPv6 is 52 bytes; v1 at most 107).</summary>
    public const int MaxLength = ProxyHeaderParser.MaxV1Length;

    /// <summary>Writes a header carrying <paramref name="source"/> (the client) and <paramref name="destination"/> (where it connected).</summary>
    /// <param name="buffer">At least <see cref="MaxLength"/> bytes.</param>
    /// <param name="version">1 or 2.</param>
    /// <param name="source">The client's address and port.</param>
    /// <param name="destination">The address and port the client connected to.</param>
    /// <returns>The header's length.</returns>
    public static int Write(Span<byte> buffer, int version, IPEndPoint source, IPEndPoint destination)
    {
        var from = WithoutScope(source.Address);
        var to = WithoutScope(destination.Address);
        if (from.IsIPv4MappedToIPv6 && (to.IsIPv4MappedToIPv6 || to.AddressFamily == AddressFamily.InterNetwork))
        {
            from = from.MapToIPv4();
        }

        if (to.IsIPv4MappedToIPv6 && from.AddressFamily == AddressFamily.InterNetwork)
        {
            to = to.MapToIPv4();
        }

        if (from.AddressFamily != to.AddressFamily)
        {
            from = from.AddressFamily == AddressFamily.InterNetwork ? from.MapToIPv6() : from;
            to = to.AddressFamily == AddressFamily.InterNetwork ? to.MapToIPv6() : to;
        }

        return version == 1
            ? WriteV1(buffer, from, to, source.Port, destination.Port)
            : WriteV2(buffer, from, to, source.Port, destination.Port);
    }

    /// <summary>The header of a connection of the proxy's own (a health probe): v2 LOCAL, or v1 <c>PROXY UNKNOWN</c>.</summary>
    /// <param name="buffer">At least <see cref="MaxLength"/> bytes.</param>
    /// <param name="version">1 or 2.</param>
    /// <returns>The header's length.</returns>
    public static int WriteLocal(Span<byte> buffer, int version)
    {
        if (version == 1)
        {
            "PROXY UNKNOWN\r\n"u8.CopyTo(buffer);
            return 15;
        }

        ProxyHeaderParser.V2Signature.CopyTo(buffer);
        buffer[12] = 0x20; // Version 2, LOCAL.
        buffer[13] = 0x00; // UNSPEC.
        BinaryPrimitives.WriteUInt16BigEndian(buffer[14..], 0);
        return ProxyHeaderParser.V2FixedLength;
    }

    private static int WriteV1(Span<byte> buffer, IPAddress from, IPAddress to, int fromPort, int toPort)
    {
        var written = 0;
        Append(buffer, ref written, from.AddressFamily == AddressFamily.InterNetwork ? "PROXY TCP4 "u8 : "PROXY TCP6 "u8);
        written += Format(from, buffer[written..]);
        buffer[written++] = (byte)' ';
        written += Format(to, buffer[written..]);
        buffer[written++] = (byte)' ';
        fromPort.TryFormat(buffer[written..], out var length, default, CultureInfo.InvariantCulture);
        written += length;
        buffer[written++] = (byte)' ';
        toPort.TryFormat(buffer[written..], out length, default, CultureInfo.InvariantCulture);
        written += length;
        Append(buffer, ref written, "\r\n"u8);
        return written;
    }

    private static int WriteV2(Span<byte> buffer, IPAddress from, IPAddress to, int fromPort, int toPort)
    {
        var v4 = from.AddressFamily == AddressFamily.InterNetwork;
        var size = v4 ? 4 : 16;
        ProxyHeaderParser.V2Signature.CopyTo(buffer);
        buffer[12] = 0x21; // Version 2, PROXY.
        buffer[13] = v4 ? (byte)0x11 : (byte)0x21; // TCP over IPv4 or IPv6.
        BinaryPrimitives.WriteUInt16BigEndian(buffer[14..], (ushort)((2 * size) + 4));
        var addresses = buffer[ProxyHeaderParser.V2FixedLength..];
        from.TryWriteBytes(addresses, out _);
        to.TryWriteBytes(addresses[size..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(addresses[(2 * size)..], (ushort)fromPort);
        BinaryPrimitives.WriteUInt16BigEndian(addresses[((2 * size) + 2)..], (ushort)toPort);
        return ProxyHeaderParser.V2FixedLength + (2 * size) + 4;
    }

    private static int Format(IPAddress address, Span<byte> buffer)
    {
        // IPv6 in the form the specification shows (RFC 5952), never with a scope.
        address.TryFormat(buffer, out var written);
        return written;
    }

    /// <summary>A header has no place for an IPv6 scope (a link-local address's interface).</summary>
    private static IPAddress WithoutScope(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0 ? new IPAddress(address.GetAddressBytes()) : address;

    private static void Append(Span<byte> buffer, ref int written, ReadOnlySpan<byte> text)
    {
        text.CopyTo(buffer[written..]);
        written += text.Length;
    }
}
