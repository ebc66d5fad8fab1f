using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Routing;

/// <summary>
/// An IPv4 or IPv6 network such as <c>10.0.0.0/8</c> or <c>fd00::/8</c>, matched against client
/// addresses. An IPv4 range also matches IPv4-mapped IPv6 addresses (::ffff:10.1.2.3), which is
/// how a dual-mode listening socket reports IPv4 clients; an IPv6 range never matches IPv4.
/// </summary>
internal readonly record struct CidrRange
{
    // The network address as a big-endian number; an IPv4 network uses the low 32 bits.
    private readonly UInt128 _network;
    private readonly UInt128 _mask;

    private CidrRange(AddressFamily family, UInt128 network, int prefixLength)
    {
        Family = family;
        PrefixLength = prefixLength;
        _network = network;
        _mask = Mask(family, prefixLength);
    }

    /// <summary>InterNetwork or InterNetworkV6.</summary>
    public AddressFamily Family { get; }

    /// <summary>The number of leading bits that must match: 0-32 for IPv4, 0-128 for IPv6.</summary>
    public int PrefixLength { get; }

    /// <summary>
    /// Parses <c>address/prefix</c>, or a bare address meaning a single host (/32 or /128). The
    /// address must be the network address: <c>10.0.0.1/8</c> is rejected rather than silently
    /// widened, since it is most likely a typo for /32 or for another network.
    /// </summary>
    public static bool TryParse(string? text, out CidrRange range, out string? error)
    {
        range = default;
        var span = text.AsSpan().Trim();
        var slash = span.IndexOf('/');
        var addressText = slash < 0 ? span : span[..slash];
        if (!TryParseAddress(addressText, out var address))
        {
            error = $"\"{text}\" is not a valid CIDR range (expected an address or address/prefix, e.g. 10.0.0.0/8 or fd00::/8)";
            return false;
        }

        var family = address.AddressFamily;
        var maxPrefix = family == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0 &&
            (!int.TryParse(span[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > maxPrefix))
        {
            error = $"\"{text}\" has an invalid prefix length (expected 0 to {maxPrefix} for an {(maxPrefix == 32 ? "IPv4" : "IPv6")} address)";
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        var value = ToNumber(bytes[..written]);
        var mask = Mask(family, prefix);
        if ((value & ~mask) != 0)
        {
            error = $"\"{text}\" has host bits set: the network address is {new CidrRange(family, value & mask, prefix)}";
            return false;
        }

        range = new CidrRange(family, value, prefix);
        error = null;
        return true;
    }

    /// <summary>Whether <paramref name="address"/> is in this range. Allocation-free.</summary>
    public bool Contains(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            return false;
        }

        UInt128 value;
        if (Family == AddressFamily.InterNetwork)
        {
            if (written == 4)
            {
                value = BinaryPrimitives.ReadUInt32BigEndian(bytes);
            }
            else if (address.IsIPv4MappedToIPv6)
            {
                value = BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]);
            }
            else
            {
                return false;
            }
        }
        else if (written == 16)
        {
            value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        }
        else
        {
            return false;
        }

        return (value & _mask) == _network;
    }

    /// <summary>The canonical form, e.g. <c>10.0.0.0/8</c> or <c>fd00::/8</c>.</summary>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (Family == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)_network);
            bytes = bytes[..4];
        }
        else
        {
            BinaryPrimitives.WriteUInt128BigEndian(bytes, _network);
        }

        return string.Create(CultureInfo.InvariantCulture, $"{new IPAddress(bytes)}/{PrefixLength}");
    }

    /// <summary>IPAddress.TryParse, minus its legacy forms ("10" is 0.0.0.10, "10.1" is 10.0.0.1, octal, hex) and scope ids.</summary>
    private static bool TryParseAddress(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.IsEmpty || text.Contains('%') || !IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        if (parsed.AddressFamily == AddressFamily.InterNetwork && !IsDottedQuad(text))
        {
            return false;
        }

        address = parsed;
        return parsed.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6;
    }

    /// <summary>Four decimal octets; a leading zero is refused, as IPAddress would read "010" as octal 8.</summary>
    private static bool IsDottedQuad(ReadOnlySpan<char> text)
    {
        if (text.Count('.') != 3 || text.ContainsAnyExcept("0123456789."))
        {
            return false;
        }

        foreach (var range in text.Split('.'))
        {
            var octet = text[range];
            if (octet.IsEmpty || (octet.Length > 1 && octet[0] == '0'))
            {
                return false;
            }
        }

        return true;
    }

    private static UInt128 ToNumber(ReadOnlySpan<byte> bytes) =>
        bytes.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(bytes) : BinaryPrimitives.ReadUInt128BigEndian(bytes);

    private static UInt128 Mask(AddressFamily family, int prefixLength)
    {
        if (prefixLength == 0)
        {
            return UInt128.Zero;
        }

        var bits = family == AddressFamily.InterNetwork ? 32 : 128;
        var all = family == AddressFamily.InterNetwork ? (UInt128)uint.MaxValue : UInt128.MaxValue;
        return (all << (bits - prefixLength)) & all;
    }
}
