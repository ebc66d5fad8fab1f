using System.Buffers.Binary;
using System.Globalization;
using System.Net;

namespace FProxy.ProxyProtocol;

/// <summary>
/// Writes PROXY protocol headers, version 1 or 2, into a caller's buffer without allocating. An IPv4-mapped IPv6
/// address goes out as IPv4 when both ends map; when only one is IPv4, both go out as IPv6 (a
/// header carries one family).
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
    public static int Write(Span<byte> buffer, int version, IPEndPoint source, IPEndPoint destination) =>
        Write(buffer, version, ProxyAddresses.From(source, destination));

    /// <summary>Writes a header carrying <paramref name="addresses"/>.</summary>
    /// <param name="buffer">At least <see cref="MaxLength"/> bytes.</param>
    /// <param name="version">1 or 2.</param>
    /// <param name="addresses">The client's end and the end it connected to.</param>
    /// <returns>The header's length.</returns>
    public static int Write(Span<byte> buffer, int version, in ProxyAddresses addresses) =>
        version == 1 ? WriteV1(buffer, addresses) : WriteV2(buffer, addresses);

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

    private static int WriteV1(Span<byte> buffer, in ProxyAddresses addresses)
    {
        var written = 0;
        Append(buffer, ref written, addresses.IsIPv4 ? "PROXY TCP4 "u8 : "PROXY TCP6 "u8);
        written += Format(addresses, addresses.Source, buffer[written..]);
        buffer[written++] = (byte)' ';
        written += Format(addresses, addresses.Destination, buffer[written..]);
        buffer[written++] = (byte)' ';
        addresses.SourcePort.TryFormat(buffer[written..], out var length, default, CultureInfo.InvariantCulture);
        written += length;
        buffer[written++] = (byte)' ';
        addresses.DestinationPort.TryFormat(buffer[written..], out length, default, CultureInfo.InvariantCulture);
        written += length;
        Append(buffer, ref written, "\r\n"u8);
        return written;
    }

    private static int WriteV2(Span<byte> buffer, in ProxyAddresses addresses)
    {
        var size = addresses.AddressLength;
        ProxyHeaderParser.V2Signature.CopyTo(buffer);
        buffer[12] = 0x21; // Version 2, PROXY.
        buffer[13] = addresses.IsIPv4 ? (byte)0x11 : (byte)0x21; // TCP over IPv4 or IPv6.
        BinaryPrimitives.WriteUInt16BigEndian(buffer[14..], (ushort)((2 * size) + 4));
        var part = buffer[ProxyHeaderParser.V2FixedLength..];
        addresses.WriteAddress(addresses.Source, part);
        addresses.WriteAddress(addresses.Destination, part[size..]);
        BinaryPrimitives.WriteUInt16BigEndian(part[(2 * size)..], addresses.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(part[((2 * size) + 2)..], addresses.DestinationPort);
        return ProxyHeaderParser.V2FixedLength + (2 * size) + 4;
    }

    private static int Format(in ProxyAddresses addresses, UInt128 address, Span<byte> buffer)
    {
        if (addresses.IsIPv4)
        {
            // Dotted decimal by hand: no IPAddress for the common case.
            var value = (uint)address;
            var written = 0;
            for (var shift = 24; shift >= 0; shift -= 8)
            {
                ((byte)(value >> shift)).TryFormat(buffer[written..], out var length, default, CultureInfo.InvariantCulture);
                written += length;
                if (shift > 0)
                {
                    buffer[written++] = (byte)'.';
                }
            }

            return written;
        }

        return FormatIPv6(address, buffer);
    }

    /// <summary>
    /// RFC 5952's form: lower-case hex groups without leading zeros, the longest run of two or more
    /// zero groups (the first of equal runs) as "::". inet_pton and the runtime read it back.
    /// </summary>
    private static int FormatIPv6(UInt128 address, Span<byte> buffer)
    {
        Span<ushort> groups = stackalloc ushort[8];
        for (var i = 0; i < 8; i++)
        {
            groups[i] = (ushort)(address >> (16 * (7 - i)));
        }

        int runStart = -1, runLength = 0;
        for (var i = 0; i < 8;)
        {
            var end = i;
            while (end < 8 && groups[end] == 0)
            {
                end++;
            }

            if (end - i > runLength && end - i >= 2)
            {
                (runStart, runLength) = (i, end - i);
            }

            i = end == i ? i + 1 : end;
        }

        var written = 0;
        for (var i = 0; i < 8; i++)
        {
            if (i == runStart)
            {
                buffer[written++] = (byte)':';
                buffer[written++] = (byte)':';
                i += runLength - 1;
                continue;
            }

            if (written > 0 && buffer[written - 1] != ':')
            {
                buffer[written++] = (byte)':';
            }

            groups[i].TryFormat(buffer[written..], out var length, "x", CultureInfo.InvariantCulture);
            written += length;
        }

        return written;
    }

    private static void Append(Span<byte> buffer, ref int written, ReadOnlySpan<byte> text)
    {
        text.CopyTo(buffer[written..]);
        written += text.Length;
    }
}
