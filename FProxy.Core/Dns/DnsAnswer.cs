using System.Net;

namespace FProxy.Dns;

/// <summary>
/// What the address table knows about a host name: its addresses in Happy Eyeballs order, or, when it
/// has none at all, why. A lookup failure after a success keeps the last good addresses (and no error).
/// The array is shared by every reader of the table: never modify it.
/// </summary>
/// <param name="Addresses">Addresses to try, IPv6 and IPv4 interleaved (IPv6 first); empty when <paramref name="Error"/> is set.</param>
/// <param name="Error">Why there is no address, e.g. <c>"db.example" not found (NXDOMAIN)</c>; null on success.</param>
internal readonly record struct DnsAnswer(IPAddress[] Addresses, string? Error)
{
    /// <summary>True when there is at least one address to try.</summary>
    public bool Succeeded => Error is null;

    /// <summary>An answer with no address and the given reason.</summary>
    public static DnsAnswer Failed(string error) => new([], error);
}
