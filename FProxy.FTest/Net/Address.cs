using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.FTest.Net;

/// <summary>
/// A peer as the user writes it: <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>.
/// Strict like FProxy's config: IPv6 needs brackets, so "::1:80" is an error rather than a guess.
/// </summary>
internal sealed record Address(string Host, int Port, IPAddress? Ip)
{
    public const string ExpectedForms = "expected host:port, 1.2.3.4:port or [::1]:port";

    public static bool TryParse(string text, [NotNullWhen(true)] out Address? address, [NotNullWhen(false)] out string? problem)
    {
        address = null;
        problem = $"invalid address \"{text}\": {ExpectedForms}";
        string host;
        string port;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = text[1..close];
            port = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6 || host.Contains('%', StringComparison.Ordinal))
            {
                return false;
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                return false;
            }

            host = text[..colon];
            port = text[(colon + 1)..];
            if (!IsHostName(host))
            {
                return false;
            }
        }

        if (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit)
            || !int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            problem = $"invalid address \"{text}\": port must be 1-65535 ({ExpectedForms})";
            return false;
        }

        IPAddress.TryParse(host, out var ip);
        address = new Address(host, number, ip);
        problem = null;
        return true;
    }

    /// <summary>Resolves the host (IP literals skip the lookup) to its first address.</summary>
    public async Task<IPEndPoint> ResolveAsync(IHostResolver resolver, CancellationToken ct)
    {
        if (Ip is not null)
        {
            return new IPEndPoint(Ip, Port);
        }

        IPAddress[] addresses;
        try
        {
            addresses = await resolver.ResolveAsync(Host, ct).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            throw new ToolException($"cannot resolve \"{Host}\": {Failures.Describe(e.SocketErrorCode)}");
        }

        return addresses.Length == 0
            ? throw new ToolException($"cannot resolve \"{Host}\": no address")
            : new IPEndPoint(addresses[0], Port);
    }

    public override string ToString() => Ip is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    private static bool IsHostName(string host)
    {
        if (host.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-'
                || !label.All(static c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                return false;
            }
        }

        // All digits and dots must be a real dotted quad, not "127.1" or "1.2.3.4.5".
        return !host.All(static c => char.IsAsciiDigit(c) || c == '.')
            || (host.Count(static c => c == '.') == 3 && IPAddress.TryParse(host, out _));
    }
}
