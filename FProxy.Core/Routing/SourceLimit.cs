using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Routing;

/// <summary>
/// An app's open connections per client source, against its MaxConnectionsPerSource. A source
/// is one IPv4 address, or one IPv6 /64: a single host is usually handed a whole /64, so counting
/// IPv6 addresses one by one would let it open as many connections as it has addresses.
/// </summary>
/// <remarks>
/// Only sources with open connections have an entry: the last one out removes it, so the table
/// is never larger than the app's open connections. Counts change by compare-and-swap on the
/// entry; the dictionary locks one bucket only to add or remove an entry (a source's first
/// connection and its last), and the whole table exists only for apps that set the limit.
/// </remarks>
internal sealed class SourceLimit
{
    private readonly ConcurrentDictionary<UInt128, int> _open = new();

    /// <summary>How many sources have open connections.</summary>
    public int Sources => _open.Count;

    /// <summary>The open connections counted for <paramref name="address"/>'s source.</summary>
    public int OpenFrom(IPAddress address) => _open.GetValueOrDefault(KeyOf(address));

    /// <summary>
    /// Counts a new connection from the source <paramref name="key"/> (see <see cref="KeyOf"/>)
    /// unless it already has <paramref name="max"/> open.
    /// </summary>
    public bool TryEnter(UInt128 key, int max)
    {
        while (true)
        {
            if (_open.TryGetValue(key, out var open))
            {
                if (open >= max)
                {
                    return false;
                }

                if (_open.TryUpdate(key, open + 1, open))
                {
                    return true;
                }
            }
            else if (_open.TryAdd(key, 1))
            {
                return true;
            }
        }
    }

    /// <summary>A connection counted by <see cref="TryEnter"/> for <paramref name="key"/> ended.</summary>
    public void Exit(UInt128 key)
    {
        while (_open.TryGetValue(key, out var open))
        {
            // The last one out removes the entry, unless a new connection counted itself meanwhile
            // (then the value is no longer 1 and the loop decrements instead).
            if (open == 1 ? _open.TryRemove(new KeyValuePair<UInt128, int>(key, 1)) : _open.TryUpdate(key, open - 1, open))
            {
                return;
            }
        }
    }

    /// <summary>
    /// The source an address belongs to: an IPv4 address (also written IPv4-mapped) stands for
    /// itself, an IPv6 address for its /64. The two never collide: an IPv4 key keeps the mapped
    /// form's ffff in its low half, and an IPv6 key's low half is zero.
    /// </summary>
    public static UInt128 KeyOf(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return IPv4Key(BinaryPrimitives.ReadUInt32BigEndian(bytes));
        }

        return address.IsIPv4MappedToIPv6
            ? IPv4Key(BinaryPrimitives.ReadUInt32BigEndian(bytes[12..]))
            : new UInt128(BinaryPrimitives.ReadUInt64BigEndian(bytes), 0);
    }

    private static UInt128 IPv4Key(uint address) => new(0, 0xFFFF_0000_0000UL | address);
}
