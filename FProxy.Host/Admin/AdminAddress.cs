using System.Globalization;
using System.Net;

namespace FProxy.Host.Admin;

/// <summary>
/// Where the admin endpoint listens, from FPROXY_ADMIN_URL: <c>http://IP:PORT</c> or
/// <c>http://localhost:PORT</c>. Deliberately narrow: no names to resolve (the admin socket must
/// bind the address the operator wrote, not whatever a name resolves to today), no https (put a
/// proxy in front), no path, since every route lives at the root.
/// </summary>
internal sealed record AdminAddress(string Host, IPAddress? Address, int Port)
{
    /// <summary>Loopback only, so nothing but the node itself sees the admin routes unless asked.</summary>
    public static readonly AdminAddress Default = new("127.0.0.1", IPAddress.Loopback, 9901);

    private const string Expected = "expected http://IP:PORT, http://localhost:PORT or none";

    /// <summary>True for localhost and loopback addresses (127.0.0.0/8, ::1).</summary>
    public bool IsLoopback => Address is null || IPAddress.IsLoopback(Address);

    /// <summary>The URL as it is listened on, e.g. <c>http://127.0.0.1:9901</c> or <c>http://[::1]:9901</c>.</summary>
    public string Url => Address is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 }
        ? $"http://[{Host}]:{Port.ToString(CultureInfo.InvariantCulture)}"
        : $"http://{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>Parses <paramref name="text"/>; throws <see cref="ArgumentException"/> naming <paramref name="variable"/>.</summary>
    public static AdminAddress Parse(string text, string variable)
    {
        const string scheme = "http://";
        var trimmed = text.Trim();
        if (!trimmed.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(variable, text, trimmed.Contains("://", StringComparison.Ordinal)
                ? $"only http:// is supported ({Expected})"
                : Expected);
        }

        var authority = trimmed[scheme.Length..];
        if (authority.EndsWith('/'))
        {
            authority = authority[..^1];
        }

        if (authority.IndexOfAny(['/', '?', '#']) >= 0)
        {
            throw Invalid(variable, text, $"no path or query is allowed: every admin route is at the root ({Expected})");
        }

        if (authority.Contains('@', StringComparison.Ordinal))
        {
            throw Invalid(variable, text, $"no user name is allowed ({Expected})");
        }

        string host;
        string? port;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? authority[1..] : authority[1..close];
            port = close >= 0 && close + 1 < authority.Length && authority[close + 1] == ':' ? authority[(close + 2)..] : null;
            if (close < 0 || (port is null && close + 1 != authority.Length))
            {
                throw Invalid(variable, text, Expected);
            }
        }
        else
        {
            var colon = authority.LastIndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            port = colon < 0 ? null : authority[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                throw Invalid(variable, text, "an IPv6 address must be in brackets, e.g. http://[::1]:9901");
            }
        }

        if (port is null)
        {
            throw Invalid(variable, text, $"a port is required ({Expected})");
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw Invalid(variable, text, $"the port must be a number from 1 to 65535 ({Expected})");
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return new AdminAddress("localhost", null, number);
        }

        if (!IsStrictIPAddress(host, bracketed: authority.StartsWith('['), out var address))
        {
            throw Invalid(variable, text, $"the host must be an IP address or localhost, not a name to resolve ({Expected})");
        }

        return new AdminAddress(address.ToString(), address, number);
    }

    /// <summary>
    /// IPv4 as four dotted numbers only (IPAddress.TryParse also takes "127.1" and "1", which
    /// nobody means), IPv6 only in brackets.
    /// </summary>
    private static bool IsStrictIPAddress(string host, bool bracketed, out IPAddress address)
    {
        if (!IPAddress.TryParse(host, out address!))
        {
            return false;
        }

        return bracketed
            ? address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            : address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && host.Count(static c => c == '.') == 3;
    }

    private static ArgumentException Invalid(string variable, string text, string why) =>
        new($"{variable}: \"{text}\" is not a valid admin URL: {why}");
}
