using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Configuration;

/// <summary>
/// Reads the CIDR ranges of rules (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) into <see cref="IPNetwork"/>,
/// more strictly than <see cref="IPNetwork.TryParse(string?, out IPNetwork)"/>: host bits set
/// (<c>10.0.0.1/8</c>) are an error rather than silently cleared, since they are most likely a
/// typo, and IPv4's legacy forms (<c>10.1</c>, octal) are refused. Matching is
/// <see cref="IPNetwork.Contains"/>: an IPv4 network also matches IPv4-mapped IPv6 addresses
/// (::ffff:10.1.2.3, how a dual-mode listener reports IPv4 clients), without allocating.
/// </summary>
internal static class CidrParser
{
    /// <summary>
    /// Parses <c>address/prefix</c>, or a bare address meaning a single host (/32 or /128). The
    /// address must be the network address: <c>10.0.0.1/8</c> is rejected rather than silently
    /// widened, since it is most likely a typo for /32 or for another network.
    /// </summary>
    public static bool TryParse(string? text, out IPNetwork range, out string? error)
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

        // IPNetwork clears host bits silently; here they are an error naming the network meant.
        var network = new IPNetwork(Masked(address, prefix), prefix);
        if (!network.BaseAddress.Equals(address))
        {
            error = $"\"{text}\" has host bits set: the network address is {network}";
            return false;
        }

        range = network;
        error = null;
        return true;
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

    /// <summary><paramref name="address"/> with every bit after the first <paramref name="prefix"/> cleared.</summary>
    private static IPAddress Masked(IPAddress address, int prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        bytes = bytes[..written];
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
