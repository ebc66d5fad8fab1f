using System.Buffers.Binary;
using System.Net;

namespace FProxy.ProxyProtocol;

/// <summary>
/// Reads a PROXY protocol header, version 1 or 2 (told apart by their first bytes), strictly as
/// the HAProxy specification defines them. Never throws on any input, never reads past what it
/// was given, and allocates only the addresses it returns.
/// </summary>
internal static class ProxyHeaderParser
{
    /// <summary>The v2 signature: CR LF CR LF NUL CR LF "QUIT" LF.</summary>
    public static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>The longest v1 line the specification allows, CR LF included.</summary>
    public const int MaxV1Length = 107;

    /// <summary>The largest v2 address-and-TLV part accepted (the 16-byte fixed part not counted).</summary>
    public const int MaxV2Payload = 4096;

    /// <summary>The v2 fixed part: signature, version and command, family and protocol, length.</summary>
    public const int V2FixedLength = 16;

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    /// <summary>Parses the header at the start of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes received so far.</param>
    /// <param name="header">The header, when the result is <see cref="ProxyParseStatus.Done"/>.</param>
    /// <param name="consumed">The header's length, when done: the client's own bytes start there.</param>
    /// <param name="reason">Why the bytes are not a header, when invalid (a fixed text, no allocation).</param>
    public static ProxyParseStatus TryParse(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed, out string? reason)
    {
        header = default;
        consumed = 0;
        reason = null;
        if (data.IsEmpty)
        {
            return ProxyParseStatus.NeedMoreData;
        }

        if (data[0] == V2Signature[0])
        {
            return ParseV2(data, out header, out consumed, out reason);
        }

        if (data[0] == V1Prefix[0])
        {
            return ParseV1(data, out header, out consumed, out reason);
        }

        reason = "not a PROXY protocol header (neither \"PROXY \" nor the v2 signature)";
        return ProxyParseStatus.Invalid;
    }

    private static ProxyParseStatus ParseV2(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed, out string? reason)
    {
        header = default;
        consumed = 0;
        reason = null;
        if (!MatchesSoFar(data, V2Signature))
        {
            reason = "not a PROXY protocol header (a broken v2 signature)";
            return ProxyParseStatus.Invalid;
        }

        if (data.Length < V2FixedLength)
        {
            return ProxyParseStatus.NeedMoreData;
        }

        var versionCommand = data[12];
        if (versionCommand >> 4 != 2)
        {
            reason = "v2 header with a version other than 2";
            return ProxyParseStatus.Invalid;
        }

        var command = (versionCommand & 0x0F) switch
        {
            0 => ProxyCommand.Local,
            1 => ProxyCommand.Proxy,
            _ => (ProxyCommand)(-1),
        };
        if ((int)command < 0)
        {
            reason = "v2 header with an unknown command";
            return ProxyParseStatus.Invalid;
        }

        var family = data[13] >> 4;
        var protocol = data[13] & 0x0F;
        if (family > 3 || protocol > 2)
        {
            reason = "v2 header with an unknown address family or protocol";
            return ProxyParseStatus.Invalid;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(data[14..]);
        if (length > MaxV2Payload)
        {
            reason = "v2 header longer than 4,096 bytes of addresses and TLVs";
            return ProxyParseStatus.Invalid;
        }

        // The addresses a family needs must fit in the length it declares, whatever the command.
        var needed = (family, protocol) switch
        {
            (1, not 0) => 12,
            (2, not 0) => 36,
            (3, not 0) => 216,
            _ => 0,
        };
        if (length < needed)
        {
            reason = "v2 header too short for its address family";
            return ProxyParseStatus.Invalid;
        }

        if (data.Length < V2FixedLength + length)
        {
            return ProxyParseStatus.NeedMoreData;
        }

        consumed = V2FixedLength + length;

        // LOCAL, UNSPEC, UNIX and UDP keep the connection's own addresses; TLVs are skipped.
        if (command == ProxyCommand.Local || protocol != 1 || family is 0 or 3)
        {
            header = new ProxyHeader(2, command, null);
            return ProxyParseStatus.Done;
        }

        var addresses = data.Slice(V2FixedLength, needed);
        var size = family == 1 ? 4 : 16;
        header = new ProxyHeader(2, ProxyCommand.Proxy, new ProxyAddresses(
            family == 1,
            ProxyAddresses.ReadAddress(addresses[..size]),
            BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * size)..]),
            ProxyAddresses.ReadAddress(addresses.Slice(size, size)),
            BinaryPrimitives.ReadUInt16BigEndian(addresses[((2 * size) + 2)..])));
        return ProxyParseStatus.Done;
    }

    private static ProxyParseStatus ParseV1(ReadOnlySpan<byte> data, out ProxyHeader header, out int consumed, out string? reason)
    {
        header = default;
        consumed = 0;
        reason = null;
        var prefix = V1Prefix;
        if (!MatchesSoFar(data, prefix))
        {
            reason = "not a PROXY protocol header (a line not starting with \"PROXY \")";
            return ProxyParseStatus.Invalid;
        }

        var window = data[..Math.Min(data.Length, MaxV1Length)];
        var end = window.IndexOf((byte)'\n');
        if (end < 0)
        {
            if (data.Length >= MaxV1Length)
            {
                reason = "v1 header longer than 107 bytes";
                return ProxyParseStatus.Invalid;
            }

            // Every byte so far must be one a header can hold, so garbage is rejected at once.
            if (window.IndexOfAnyExceptInRange((byte)' ', (byte)'~') is var bad and >= 0 && !(bad == window.Length - 1 && window[bad] == '\r'))
            {
                reason = "v1 header with a byte that is not printable text";
                return ProxyParseStatus.Invalid;
            }

            return ProxyParseStatus.NeedMoreData;
        }

        if (end == 0 || window[end - 1] != '\r')
        {
            reason = "v1 header not ending in CR LF";
            return ProxyParseStatus.Invalid;
        }

        var line = window[prefix.Length..(end - 1)];
        if (line.IndexOfAnyExceptInRange((byte)' ', (byte)'~') >= 0)
        {
            reason = "v1 header with a byte that is not printable text";
            return ProxyParseStatus.Invalid;
        }

        consumed = end + 1;
        if (line.StartsWith("UNKNOWN"u8) && (line.Length == 7 || line[7] == ' '))
        {
            // Anything printable may follow UNKNOWN up to CR LF; the connection keeps its own addresses.
            header = new ProxyHeader(1, ProxyCommand.Local, null);
            return ProxyParseStatus.Done;
        }

        var v4 = line.StartsWith("TCP4 "u8);
        if (!v4 && !line.StartsWith("TCP6 "u8))
        {
            reason = "v1 header with a protocol other than TCP4, TCP6 or UNKNOWN";
            consumed = 0;
            return ProxyParseStatus.Invalid;
        }

        var fields = line[5..];
        if (!TryField(ref fields, out var sourceText) || !TryField(ref fields, out var destinationText)
            || !TryField(ref fields, out var sourcePortText) || !TryLastField(fields, out var destinationPortText))
        {
            reason = "v1 header without exactly four fields separated by single spaces";
            consumed = 0;
            return ProxyParseStatus.Invalid;
        }

        if (!TryAddress(sourceText, v4, out var source) || !TryAddress(destinationText, v4, out var destination))
        {
            reason = v4 ? "v1 TCP4 header with an address that is not IPv4" : "v1 TCP6 header with an address that is not IPv6";
            consumed = 0;
            return ProxyParseStatus.Invalid;
        }

        if (!TryPort(sourcePortText, out var sourcePort) || !TryPort(destinationPortText, out var destinationPort))
        {
            reason = "v1 header with a port that is not 0..65535 in plain digits";
            consumed = 0;
            return ProxyParseStatus.Invalid;
        }

        header = new ProxyHeader(1, ProxyCommand.Proxy, new ProxyAddresses(v4, source, (ushort)sourcePort, destination, (ushort)destinationPort));
        return ProxyParseStatus.Done;
    }

    /// <summary>Whether <paramref name="data"/> agrees with <paramref name="expected"/> as far as either goes.</summary>
    private static bool MatchesSoFar(ReadOnlySpan<byte> data, ReadOnlySpan<byte> expected)
    {
        var length = Math.Min(data.Length, expected.Length);
        return data[..length].SequenceEqual(expected[..length]);
    }

    /// <summary>The next field up to a single space (not empty).</summary>
    private static bool TryField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        var space = rest.IndexOf((byte)' ');
        field = space > 0 ? rest[..space] : default;
        if (space <= 0)
        {
            return false;
        }

        rest = rest[(space + 1)..];
        return true;
    }

    private static bool TryLastField(ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        field = rest;
        return !rest.IsEmpty && !rest.Contains((byte)' ');
    }

    private static bool TryAddress(ReadOnlySpan<byte> text, bool v4, out UInt128 address) =>
        v4 ? TryIPv4(text, out address) : TryIPv6(text, out address);

    /// <summary>Four dotted decimal numbers 0..255, without leading zeros (they read as octal elsewhere).</summary>
    private static bool TryIPv4(ReadOnlySpan<byte> text, out UInt128 address)
    {
        address = 0;
        uint value = 0;
        for (var part = 0; part < 4; part++)
        {
            var end = part < 3 ? text.IndexOf((byte)'.') : text.Length;
            if (end is < 1 or > 3 || (end > 1 && text[0] == '0'))
            {
                return false;
            }

            var number = 0;
            foreach (var c in text[..end])
            {
                if (c is < (byte)'0' or > (byte)'9')
                {
                    return false;
                }

                number = (number * 10) + (c - '0');
            }

            if (number > 255)
            {
                return false;
            }

            value = (value << 8) | (uint)number;
            text = part < 3 ? text[(end + 1)..] : default;
        }

        address = value;
        return true;
    }

    /// <summary>An IPv6 address in any RFC 4291 text form, without a scope.</summary>
    private static bool TryIPv6(ReadOnlySpan<byte> text, out UInt128 address)
    {
        // Rarer than IPv4 in v1 headers: the runtime's parser, at the cost of one IPAddress.
        address = 0;
        if (text.Length is < 2 or > 45 || text.IndexOfAny((byte)'%', (byte)'[') >= 0)
        {
            return false;
        }

        Span<char> chars = stackalloc char[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }

        if (!IPAddress.TryParse(chars, out var parsed) || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        parsed.TryWriteBytes(bytes, out _);
        address = ProxyAddresses.ReadAddress(bytes);
        return true;
    }

    private static bool TryPort(ReadOnlySpan<byte> text, out int port)
    {
        port = 0;
        if (text.IsEmpty || text.Length > 5 || (text.Length > 1 && text[0] == '0'))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            port = (port * 10) + (c - '0');
        }

        return port <= 65535;
    }
}
