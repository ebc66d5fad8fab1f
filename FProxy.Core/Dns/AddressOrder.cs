using System.Net;
using System.Net.Sockets;

namespace FProxy.Dns;

/// <summary>Orders a name's addresses for connection attempts.</summary>
internal static class AddressOrder
{
    /// <summary>
    /// Deduplicates <paramref name="addresses"/> and interleaves the families, IPv6 first
    /// (v6, v4, v6, v4, ...), as RFC 8305 (Happy Eyeballs v2) section 4 recommends. Within a family the
    /// given order is kept.
    /// </summary>
    public static IPAddress[] Interleave(IEnumerable<IPAddress> addresses)
    {
        var seen = new HashSet<IPAddress>();
        var v6 = new List<IPAddress>();
        var v4 = new List<IPAddress>();
        foreach (IPAddress address in addresses)
        {
            if (seen.Add(address))
            {
                (address.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : v4).Add(address);
            }
        }

        var result = new IPAddress[v6.Count + v4.Count];
        int i6 = 0, i4 = 0;
        bool v6Turn = true;
        for (int i = 0; i < result.Length; i++)
        {
            // Alternate while both families last, then drain whichever is left.
            if ((v6Turn && i6 < v6.Count) || i4 >= v4.Count)
            {
                result[i] = v6[i6++];
                v6Turn = false;
            }
            else
            {
                result[i] = v4[i4++];
                v6Turn = true;
            }
        }

        return result;
    }

    /// <summary>True when both arrays hold the same addresses, whatever their order.</summary>
    public static bool SameSet(IPAddress[] left, IPAddress[] right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }

        var set = new HashSet<IPAddress>(left);
        return set.SetEquals(right);
    }
}
