using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Configuration;

/// <summary>
/// Parses a target as written in config: <c>host:port</c>, <c>1.2.3.4:port</c> or
/// <c>[::1]:port</c>. Strict on purpose: IPv6 needs brackets, IPv4 must be a dotted quad of
/// decimal numbers without leading zeros (not the legacy "127.1", octal "010.0.0.1" or hex forms
/// inet_aton accepts), and a host name must be a valid DNS name.
/// </summary>
internal static class TargetParser
{
    /// <summary>The accepted forms, for error messages.</summary>
    public const string ExpectedForms = "expected host:port, 1.2.3.4:port or [::1]:port";

    private const int MaxNameLength = 253;
    private const int MaxLabelLength = 63;

    /// <summary>Parses <paramref name="text"/>, or explains what is wrong with it.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out TargetConfig? target, [NotNullWhen(false)] out string? problem)
    {
        target = null;
        var quoted = "\"" + text + "\"";
        string host;
        string port;
        if (text.Length == 0)
        {
            problem = $"{quoted} is empty ({ExpectedForms})";
            return false;
        }

        if (text[0] == '[')
        {
            var close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                problem = $"{quoted} has no closing ']' ({ExpectedForms})";
                return false;
            }

            host = text[1..close];
            if (!IPAddress.TryParse(host, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6 || host.Contains('[', StringComparison.Ordinal))
            {
                problem = $"{quoted}: \"{host}\" in brackets is not an IPv6 address ({ExpectedForms})";
                return false;
            }

            var rest = text.AsSpan(close + 1);
            if (rest.IsEmpty || rest is ":")
            {
                problem = $"{quoted} has no port ({ExpectedForms})";
                return false;
            }

            if (rest[0] != ':')
            {
                problem = $"{quoted} is not a valid target ({ExpectedForms})";
                return false;
            }

            port = rest[1..].ToString();
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0 || colon == text.Length - 1 && text.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                problem = $"{quoted} has no port ({ExpectedForms})";
                return false;
            }

            if (text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                var head = text[..colon];
                problem = IPAddress.TryParse(head, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
                    ? $"{quoted}: an IPv6 address must be in brackets, e.g. \"[{head}]:{text[(colon + 1)..]}\""
                    : $"{quoted}: an IPv6 address must be in brackets, e.g. \"[::1]:80\" ({ExpectedForms})";
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
            if (host.Length == 0)
            {
                problem = $"{quoted} has no host ({ExpectedForms})";
                return false;
            }

            // IPAddress.TryParse, which TargetConfig uses to tell literals from names, also takes
            // inet_aton's forms ("0x10", "0x7f.1"): such a host would connect to an address the
            // text does not show, so it is refused like any IPv4 literal that is not a dotted quad.
            if (LooksLikeIPv4(host) || IPAddress.TryParse(host, out _))
            {
                if (!IsDottedQuad(host))
                {
                    problem = $"{quoted}: \"{host}\" is not a valid IPv4 address (expected four numbers 0..255, e.g. 10.0.0.1)";
                    return false;
                }
            }
            else if (!IsDnsName(host))
            {
                problem = $"{quoted}: \"{host}\" is not a valid host name (letters, digits, '-', '_' and '.'; labels of 1..63 characters, 253 in all)";
                return false;
            }
        }

        if (!TryParsePort(port, out var number))
        {
            problem = $"{quoted} has an invalid port (expected 1..65535)";
            return false;
        }

        target = new TargetConfig(host, number);
        problem = null;
        return true;
    }

    /// <summary>An IP literal for <c>Bind</c>: a dotted-quad IPv4 or an IPv6 address without brackets.</summary>
    public static bool TryParseAddress(string text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = null;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return !text.Contains('[', StringComparison.Ordinal)
                && IPAddress.TryParse(text, out address)
                && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        return IsDottedQuad(text) && IPAddress.TryParse(text, out address);
    }

    private static bool TryParsePort(string text, out int port)
    {
        port = 0;
        return text.Length is > 0 and <= 5
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port)
            && port is >= 1 and <= 65535;
    }

    private static bool LooksLikeIPv4(string host)
    {
        foreach (var c in host)
        {
            if (c != '.' && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDottedQuad(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        foreach (var part in parts)
        {
            // A leading zero is octal to inet_aton and to IPAddress.Parse ("010" is 8), so none is allowed.
            if (part.Length is 0 or > 3
                || (part.Length > 1 && part[0] == '0')
                || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
                || value > 255)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDnsName(string host)
    {
        // One trailing dot (a fully qualified name) is allowed and not counted.
        var name = host.EndsWith('.') ? host.AsSpan(0, host.Length - 1) : host.AsSpan();
        if (name.IsEmpty || name.Length > MaxNameLength)
        {
            return false;
        }

        var labelLength = 0;
        foreach (var c in name)
        {
            if (c == '.')
            {
                if (labelLength == 0)
                {
                    return false;
                }

                labelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            {
                if (++labelLength > MaxLabelLength)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        return labelLength > 0;
    }
}
