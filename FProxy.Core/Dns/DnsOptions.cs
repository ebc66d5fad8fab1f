using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Dns;

/// <summary>
/// How FProxy resolves target host names: which nameservers, which hosts file, which resolver
/// configuration (search list and options), and how often the addresses it keeps are refreshed.
/// </summary>
public sealed class DnsOptions
{
    /// <summary>The environment variable the host reads <see cref="Servers"/> from.</summary>
    internal const string ServersVariable = "FPROXY_DNS_SERVERS";

    /// <summary>
    /// Nameservers to query. Empty (the default) means the system's nameservers; FProxy never falls
    /// back to a public resolver.
    /// </summary>
    public IReadOnlyList<IPEndPoint> Servers { get; set; } = [];

    /// <summary>
    /// The hosts file consulted before DNS (default <c>/etc/hosts</c>); a name found there is not sent to
    /// DNS. An empty string turns the hosts file off.
    /// </summary>
    public string HostsFilePath { get; set; } = "/etc/hosts";

    /// <summary>
    /// The resolver configuration (default <c>/etc/resolv.conf</c>) whose <c>search</c> and <c>domain</c>
    /// lines and <c>ndots</c> and <c>no-tld-query</c> options decide which names are queried for a short
    /// name, as glibc applies them; the <c>LOCALDOMAIN</c> and <c>RES_OPTIONS</c> environment variables
    /// override it as they do for glibc. Re-read when it changes. An empty string means no file: then
    /// only those variables (and the host name's domain) apply. The nameservers do not come from here
    /// but from <see cref="Servers"/> or the system.
    /// </summary>
    public string ResolvConfPath { get; set; } = "/etc/resolv.conf";

    /// <summary>
    /// Where <c>LOCALDOMAIN</c>, <c>RES_OPTIONS</c> and the host name are read (the process, by default).
    /// Internal so tests can give their own without changing the process environment.
    /// </summary>
    internal ResolverEnvironment ResolverEnvironment { get; set; } = ResolverEnvironment.Process;

    /// <summary>Timeout of one DNS query attempt (default 2 s).</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Shortest interval between two refreshes of a name (default 1 s), whatever its TTL; also how
    /// often the hosts file is checked for changes.
    /// </summary>
    public TimeSpan MinRefresh { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest interval between two refreshes of a name (default 5 min), whatever its TTL.</summary>
    public TimeSpan MaxRefresh { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Delay before retrying a failed lookup (default 5 s); doubled after each further failure, up to
    /// <see cref="MaxRefresh"/>.
    /// </summary>
    public TimeSpan FailureRetry { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks that every interval is positive and that <see cref="MinRefresh"/> is at most <see cref="MaxRefresh"/>.</summary>
    /// <exception cref="InvalidOperationException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        RequirePositive(QueryTimeout, nameof(QueryTimeout));
        RequirePositive(MinRefresh, nameof(MinRefresh));
        RequirePositive(MaxRefresh, nameof(MaxRefresh));
        RequirePositive(FailureRetry, nameof(FailureRetry));
        if (MinRefresh > MaxRefresh)
        {
            throw new InvalidOperationException(
                $"DnsOptions.MinRefresh ({MinRefresh}) must not be greater than DnsOptions.MaxRefresh ({MaxRefresh}).");
        }

        if (Servers is null || HostsFilePath is null || ResolvConfPath is null || ResolverEnvironment is null)
        {
            throw new InvalidOperationException("DnsOptions.Servers, DnsOptions.HostsFilePath and DnsOptions.ResolvConfPath must not be null.");
        }
    }

    /// <summary>
    /// Parses the value of <c>FPROXY_DNS_SERVERS</c>: comma-separated <c>1.2.3.4</c>, <c>1.2.3.4:53</c>,
    /// <c>::1</c> or <c>[::1]:5353</c> (port 53 when omitted). An empty or blank value gives an empty list.
    /// </summary>
    /// <param name="value">The variable's value.</param>
    /// <returns>The nameservers, in the order given.</returns>
    /// <exception cref="FormatException">An entry is not an IP address or IP:port; the message names it.</exception>
    internal static IReadOnlyList<IPEndPoint> ParseServers(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var servers = new List<IPEndPoint>();
        string[] entries = value.Split(',');
        for (int i = 0; i < entries.Length; i++)
        {
            string entry = entries[i].Trim();
            if (entry.Length == 0)
            {
                throw new FormatException($"{ServersVariable}: entry {i + 1} of \"{value}\" is empty.");
            }

            servers.Add(ParseServer(entry));
        }

        return servers;
    }

    private static IPEndPoint ParseServer(string entry)
    {
        string address;
        string? port = null;
        AddressFamily family;
        if (entry.StartsWith('['))
        {
            // [v6] or [v6]:port
            int close = entry.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < entry.Length && entry[close + 1] != ':'))
            {
                throw NotAnAddress(entry);
            }

            address = entry[1..close];
            port = close + 1 < entry.Length ? entry[(close + 2)..] : null;
            family = AddressFamily.InterNetworkV6;
        }
        else if (entry.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0
            && entry.IndexOf(':', colon + 1) < 0)
        {
            // Exactly one colon: v4:port. (A bare v6 literal has at least two.)
            address = entry[..colon];
            port = entry[(colon + 1)..];
            family = AddressFamily.InterNetwork;
        }
        else
        {
            address = entry;
            family = entry.Contains(':', StringComparison.Ordinal) ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        }

        // IPAddress.TryParse also accepts forms such as "1" (0.0.0.1) or "[::1]:53" inside brackets; insist
        // on the plain dotted quad or a bare v6 literal.
        if (!IPAddress.TryParse(address, out IPAddress? ip)
            || ip.AddressFamily != family
            || (family == AddressFamily.InterNetwork && address.Count(static c => c == '.') != 3)
            || address.Contains('[', StringComparison.Ordinal))
        {
            throw NotAnAddress(entry);
        }

        int portNumber = 53;
        if (port is not null
            && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber)
                || portNumber is < IPEndPoint.MinPort + 1 or > IPEndPoint.MaxPort))
        {
            throw new FormatException($"{ServersVariable}: \"{entry}\" has an invalid port (expected 1-65535).");
        }

        return new IPEndPoint(ip, portNumber);
    }

    private static FormatException NotAnAddress(string entry) =>
        new($"{ServersVariable}: \"{entry}\" is not an IP address or IP:port.");

    private static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"DnsOptions.{name} must be positive (was {value}).");
        }
    }
}
