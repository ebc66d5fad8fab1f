namespace FProxy.Balancing;

/// <summary>
/// A 64-bit hash that is the same in every process and on every machine, unlike
/// <see cref="string.GetHashCode()"/> (randomised per process): two proxies in front of the same
/// targets, or one proxy after a restart, must send a client to the same target. Not keyed, so
/// a client who picks its address could pick its target; affinity is not a security boundary.
/// </summary>
internal static class StableHash
{
    private const ulong FnvOffset = 0xCBF29CE484222325;
    private const ulong FnvPrime = 0x100000001B3;

    /// <summary>The increment of splitmix64's state (2^64 / golden ratio), spacing a sequence's inputs.</summary>
    public const ulong Golden = 0x9E3779B97F4A7C15;

    /// <summary>
    /// splitmix64's finalizer: a bijection with full avalanche. FNV-1a alone mixes its last bytes
    /// poorly (addresses differing only in the last octet would land close together on the ring).
    /// </summary>
    public static ulong Mix(ulong x)
    {
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }

    /// <summary>FNV-1a over <paramref name="bytes"/>, then <see cref="Mix"/>.</summary>
    public static ulong Of(ReadOnlySpan<byte> bytes)
    {
        var hash = FnvOffset;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * FnvPrime;
        }

        return Mix(hash);
    }

    /// <summary>FNV-1a over the UTF-16 code units of <paramref name="text"/>, then <see cref="Mix"/>.</summary>
    public static ulong Of(ReadOnlySpan<char> text)
    {
        var hash = FnvOffset;
        foreach (var c in text)
        {
            hash = (hash ^ c) * FnvPrime;
        }

        return Mix(hash);
    }
}
