namespace FProxy.Diagnostics;

/// <summary>
/// Counts that many threads add to and few read: one cell per CPU stripe, each stripe on a cache
/// line of its own, summed when read. Byte counters are added to on every send by every I/O thread;
/// one shared field would move its cache line between cores on each add, and with it whatever sits
/// next to it (the active-connection count and weight that LeastConnections reads on every pick).
/// Up to eight related counts (<c>slots</c>) share each stripe's line, so a set of counts costs
/// one line per stripe, not one per count; up to sixteen take two lines per stripe.
/// </summary>
internal sealed class StripedCounter
{
    /// <summary>Two 64-byte cache lines of eight longs each: the most slots a stripe has.</summary>
    public const int MaxSlots = 16;

    private const int LineSlots = 8;

    private const int MaxStripes = 16;

    // Stripe i's slots live at (i + 1) * _stride + slot: the first stride is left empty, so no
    // stripe shares a line with the array's header or with the object before it on the heap.
    private readonly long[] _cells;
    private readonly int _mask;
    private readonly int _stride;

    /// <summary>One count.</summary>
    public StripedCounter()
        : this(DefaultStripes, 1)
    {
    }

    /// <summary>A set of <paramref name="slots"/> counts (1 to <see cref="MaxSlots"/>).</summary>
    public static StripedCounter WithSlots(int slots) => new(DefaultStripes, slots);

    /// <summary>Counts over a given number of stripes, a power of two (tests force sharing with 1).</summary>
    internal StripedCounter(int stripes, int slots)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stripes, 1);
        if (!System.Numerics.BitOperations.IsPow2(stripes))
        {
            throw new ArgumentOutOfRangeException(nameof(stripes), stripes, "Stripes must be a power of two.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(slots, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(slots, MaxSlots);
        Slots = slots;
        _mask = stripes - 1;
        _stride = slots <= LineSlots ? LineSlots : MaxSlots;
        _cells = new long[(stripes + 2) * _stride];
    }

    /// <summary>How many counts this holds.</summary>
    public int Slots { get; }

    private static int DefaultStripes =>
        (int)Math.Min(MaxStripes, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount));

    /// <summary>Adds to the stripe of the CPU the caller runs on (a hint: any stripe is correct).</summary>
    public void Add(long value) => Add(0, value);

    /// <summary>Adds to count <paramref name="slot"/>, on the stripe of the CPU the caller runs on.</summary>
    public void Add(int slot, long value) =>
        Interlocked.Add(ref _cells[((Thread.GetCurrentProcessorId() & _mask) + 1) * _stride + slot], value);

    /// <summary>The sum of every stripe: exact once adds have stopped, a recent value while they go on.</summary>
    public long Read() => Read(0);

    /// <summary>The sum of count <paramref name="slot"/> over every stripe.</summary>
    public long Read(int slot)
    {
        long sum = 0;
        for (var i = 0; i <= _mask; i++)
        {
            sum += Volatile.Read(ref _cells[(i + 1) * _stride + slot]);
        }

        return sum;
    }
}
