using System.Net;

namespace FProxy.Dns;

/// <summary>The outcome of one resolution of a name (hosts file, then DNS).</summary>
/// <param name="Addresses">Addresses in Happy Eyeballs order; empty on failure.</param>
/// <param name="Ttl">Smallest TTL of the records used; drives the next refresh.</param>
/// <param name="Error">Why there is no address; null on success.</param>
/// <param name="FromHostsFile">True when the hosts file answered.</param>
/// <param name="Status">How the lookup ended.</param>
/// <param name="AnsweredAs">The name DNS answered for when the search list made it differ from the name asked for; else null.</param>
internal readonly record struct LookupResult(
    IPAddress[] Addresses,
    TimeSpan Ttl,
    string? Error,
    bool FromHostsFile,
    LookupStatus Status = LookupStatus.Found,
    string? AnsweredAs = null)
{
    /// <summary>Where the answer came from, for logs.</summary>
    public string Source => FromHostsFile ? "the hosts file" : AnsweredAs is null ? "DNS" : "DNS as " + AnsweredAs;

    public static LookupResult Failed(string error, LookupStatus status = LookupStatus.Failed) =>
        new([], TimeSpan.Zero, error, FromHostsFile: false, status);
}
