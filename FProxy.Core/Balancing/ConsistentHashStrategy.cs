namespace FProxy.Balancing;

/// <summary>
/// Client-IP affinity: a client's address (not its port) is hashed onto a ring of points, each
/// target owning many points in proportion to its weight, and the connection goes to the owner
/// of the next point. A target's points come from its <c>host:port</c> key, not its position,
/// so removing or adding one of N targets moves only about 1/N of clients, and only from or to
/// that target. The hash is the same in every process, so several proxies (or one after a
/// restart) agree. A connection whose client address is unknown goes round robin.
/// </summary>
public sealed class ConsistentHashStrategy : IStrategy
{
    /// <summary>
    /// Points per unit of weight, as ketama (libmemcached) uses: a target's share of the ring
    /// then varies by about 1/sqrt(160), some 8%, around its weight's share.
    /// </summary>
    internal const int PointsPerWeight = 160;

    /// <summary>
    /// The most points a ring holds (1 MB): 1000 targets of weight 1 get 131 points each rather
    /// than 160, and heavier sets proportionally fewer per unit of weight (each target at least
    /// one). Up to this size a target's point count depends only on its own weight; beyond it on
    /// the set's total weight too, so a change elsewhere can move a few of its clients.
    /// </summary>
    internal const int MaxPoints = 1 << 17;

    /// <summary>A point is one sorted 64-bit value: 44 bits of hash above 20 bits of owner index.</summary>
    private const int OwnerBits = 20;

    private const ulong OwnerMask = (1UL << OwnerBits) - 1;

    private readonly ulong[] _ring;
    private readonly int _count;
    private uint _counter = uint.MaxValue;

    /// <summary>Creates the ring for <paramref name="targets"/>.</summary>
    /// <param name="targets">The available targets it picks from; <see cref="Next"/> returns indices into this set.</param>
    /// <exception cref="ArgumentException"><paramref name="targets"/> has more than 2^20 targets.</exception>
    public ConsistentHashStrategy(TargetSet targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        _count = targets.Count;
        if ((ulong)_count > OwnerMask + 1)
        {
            throw new ArgumentException($"Consistent hashing supports at most {OwnerMask + 1} targets.", nameof(targets));
        }

        var total = targets.TotalWeight;
        var budget = Math.Min(PointsPerWeight * total, MaxPoints);
        var counts = new int[_count];
        var size = 0;
        for (var i = 0; i < _count; i++)
        {
            counts[i] = (int)Math.Max(1, targets[i].Weight * budget / total);
            size += counts[i];
        }

        _ring = new ulong[size];
        var next = 0;
        for (var i = 0; i < _count; i++)
        {
            // The target's points are the splitmix64 sequence seeded by its key: a target keeps
            // the same points whichever other targets are in the set, and whatever its index.
            var seed = StableHash.Of(targets[i].Config.Key);
            for (var point = 1; point <= counts[i]; point++)
            {
                _ring[next++] = (StableHash.Mix(seed + ((ulong)point * StableHash.Golden)) & ~OwnerMask) | (uint)i;
            }
        }

        Array.Sort(_ring);
    }

    /// <summary>The number of points on the ring.</summary>
    internal int PointCount => _ring.Length;

    /// <inheritdoc/>
    public int Next(in StrategyContext context)
    {
        var address = context.Client?.Address;
        Span<byte> bytes = stackalloc byte[16];
        if (address is null || !address.TryWriteBytes(bytes, out var written))
        {
            return (int)(Interlocked.Increment(ref _counter) % (uint)_count);
        }

        // The caller turns IPv4-mapped addresses into IPv4 already; this keeps a custom caller
        // that does not from splitting one client across two targets, for one flag test.
        var key = written == 16 && address.IsIPv4MappedToIPv6 ? bytes[12..] : bytes[..written];
        return Owner(StableHash.Of(key));
    }

    /// <summary>The owner of the first point at or after <paramref name="hash"/>, wrapping past the last.</summary>
    private int Owner(ulong hash)
    {
        var ring = _ring;
        var key = hash & ~OwnerMask;
        int low = 0, high = ring.Length;
        while (low < high)
        {
            var middle = (int)((uint)(low + high) >> 1);
            if (ring[middle] < key)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return (int)(ring[low == ring.Length ? 0 : low] & OwnerMask);
    }
}
