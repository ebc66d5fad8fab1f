using System.Net;
using FProxy.Configuration;

namespace FProxy.Routing;

/// <summary>
/// A compiled list of CIDR ranges (a rule's SourceCidrs, an app's TrustedProxies): parsed once,
/// checked without allocating. IPv4-mapped addresses match IPv4 ranges (IPNetwork does that).
/// </summary>
internal sealed class AddressRanges
{
    private readonly IPNetwork[] _ranges;

    /// <param name="cidrs">Validated ranges, in the config's canonical form.</param>
    /// <param name="name">The config list they come from, for the exception a bug would raise.</param>
    public AddressRanges(IEnumerable<string> cidrs, string name)
    {
        _ranges = [.. cidrs.Select(text => CidrParser.TryParse(text, out var range, out var error)
            ? range
            : throw new ArgumentException(error, name))];
    }

    /// <summary>No range: the list was empty.</summary>
    public bool IsEmpty => _ranges.Length == 0;

    /// <summary>Whether <paramref name="address"/> lies in one of the ranges; false for null.</summary>
    public bool Contains(IPAddress? address)
    {
        if (address is null)
        {
            return false;
        }

        foreach (var range in _ranges)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }

        return false;
    }
}
