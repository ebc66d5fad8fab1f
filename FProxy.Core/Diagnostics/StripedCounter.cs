namespace FProxy.Diagnostics;

/// <summary>
/// A count that many threads add to and few read: one cell per CPU stripe, each on a cache line of
/// its own, summed when read. Byte counters are added to on every send by every I/O thread; one
/// shared field would move its cache line between cores on each add, and with it whatever sits
/// next to it (the active-connection count and weight that LeastConnections reads on every pick).
/// </summary>
internal sealed class StripedCounter
{
    private const int LineLongs = 8; // A 64-byte cache line holds eight longs.
    private const int MaxStripes = 16;

    // Stripe i lives at (i + 1) * LineLongs: the first line is left empty, so no stripe shares a
    // line with the array's header or with the object before it on the heap.
    private readonly long[] _cells;
    private readonly int _mask;

    public StripedCounter()
        : this((int)Math.Min(MaxStripes, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount)))
    {
    }

    /// <summary>A counter of a given number of stripes, a power of two (tests force sharing with 1).</summary>
    internal StripedCounter(int stripes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stripes, 1);
        if (!System.Numerics.BitOperations.IsPow2(stripes))
        {
            throw new ArgumentOutOfRangeException(nameof(stripes), stripes, "Stripes must be a power of two.");
        }

        _mask = stripes - 1;
        _cells = new long[(stripes + 2) * LineLongs];
    }

    /// <summary>Adds to the stripe of the CPU the caller runs on (a hint: any stripe is correct).</summary>
    public void Add(long value) =>
        Interlocked.Add(ref _cells[((Thread.GetCurrentProcessorId() & _mask) + 1) * LineLongs], value);

    /// <summary>The sum of every stripe: exact once adds have stopped, a recent value while they go on.</summary>
    public long Read()
    {
        long sum = 0;
        for (var i = 0; i <= _mask; i++)
        {
            sum += Volatile.Read(ref _cells[(i + 1) * LineLongs]);
        }

        return sum;
    }
}
