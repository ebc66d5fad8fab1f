using System.Buffers;
using System.Collections.Concurrent;

namespace FProxy.Transport;

/// <summary>
/// A pool of fixed-size pinned blocks for the pipes. Unlike MemoryPool&lt;byte&gt;.Shared it does
/// not allocate an owner object per rent: each block is its own reusable owner. Pinned arrays
/// let the kernel copy straight into them without the runtime pinning per operation.
/// </summary>
/// <remarks>
/// Given a clock, the pool gives memory back after a burst, as Kestrel's pool does since .NET 9:
/// every <see cref="EvictionPeriod"/> it compares what it holds with the most blocks lent at once
/// during the period, and releases a share of the difference from its free blocks to the GC.
/// Steady traffic keeps what it needs; a spike does not pin its memory for the life of the
/// process. Rent and Return take no lock: they add one compare to the counters they already
/// keep. Counters (<see cref="Outstanding"/>) are what leak tests assert on.
/// </remarks>
internal sealed class PinnedBlockMemoryPool : MemoryPool<byte>
{
    /// <summary>
    /// 16 KiB: a loopback read rarely returns more per call at the default socket buffer sizes,
    /// and an active connection then holds 2 x 16 KiB at rest.
    /// </summary>
    public const int DefaultBlockSize = 16 * 1024;

    private readonly ConcurrentQueue<Block> _blocks = new();
    private readonly int _blockSize;
    private readonly ITimer? _eviction;
    private int _outstanding;
    private int _peak; // Most blocks lent at once since the last eviction pass.
    private long _allocated;
    private bool _disposed;

    /// <param name="blockSize">Bytes per block.</param>
    /// <param name="time">
    /// The clock of the eviction passes; none (tests, benchmarks): the pool keeps every block it
    /// made.
    /// </param>
    public PinnedBlockMemoryPool(int blockSize = DefaultBlockSize, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _blockSize = blockSize;

        // The timer holds the pool weakly: a pool nobody uses any more is collected, and the
        // timer with it, even if it was never disposed.
        _eviction = time?.CreateTimer(
            static state =>
            {
                if (((WeakReference<PinnedBlockMemoryPool>)state!).TryGetTarget(out var pool))
                {
                    pool.Evict();
                }
            },
            new WeakReference<PinnedBlockMemoryPool>(this),
            EvictionPeriod,
            EvictionPeriod);
    }

    /// <summary>The shared pool used by the daemon; it gives idle blocks back on the system clock.</summary>
    public static new PinnedBlockMemoryPool Shared { get; } = new(time: TimeProvider.System);

    /// <summary>How often the pool compares what it holds with what was needed (Kestrel's period).</summary>
    public static TimeSpan EvictionPeriod { get; } = TimeSpan.FromSeconds(10);

    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks rented and not yet returned.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Blocks in the pool, ready to be rented.</summary>
    public int Free => _blocks.Count;

    /// <summary>
    /// Blocks made and not given back to the GC, lent or free: the pool's footprint is this times
    /// the block size.
    /// </summary>
    public long Allocated => Interlocked.Read(ref _allocated);

    /// <summary>Whether the pool gives idle blocks back (it was given a clock).</summary>
    internal bool EvictsIdleBlocks => _eviction is not null;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > _blockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize), minBufferSize, $"The pool's blocks are {_blockSize} bytes.");
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_blocks.TryDequeue(out var block))
        {
            block = new Block(this, _blockSize);
            Interlocked.Increment(ref _allocated);
        }

        var outstanding = Interlocked.Increment(ref _outstanding);
        if (outstanding > Volatile.Read(ref _peak))
        {
            // Not a compare-exchange loop: two renters racing here may leave the smaller of their
            // counts, which only makes one eviction pass a little more generous.
            Volatile.Write(ref _peak, outstanding);
        }

        return block;
    }

    /// <summary>
    /// One eviction pass (every <see cref="EvictionPeriod"/> on the pool's clock): a quarter (at
    /// least one) of the blocks that no moment of the period needed go from the free queue to the
    /// GC. Only free blocks are ever taken, never one that is lent.
    /// </summary>
    internal void Evict()
    {
        if (_disposed)
        {
            return;
        }

        // The period's demand is its peak; the next period starts from what is lent now.
        var outstanding = Outstanding;
        var peak = Math.Max(Interlocked.Exchange(ref _peak, outstanding), outstanding);
        var surplus = Allocated - peak;

        // A quarter per period empties a burst's blocks within a few minutes, while a burst that
        // comes back every minute or so finds most of them still there.
        for (var evict = (surplus + 3) / 4; evict > 0 && _blocks.TryDequeue(out _); evict--)
        {
            Interlocked.Decrement(ref _allocated);
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        _eviction?.Dispose();
        _blocks.Clear();
    }

    private void Return(Block block)
    {
        Interlocked.Decrement(ref _outstanding);
        if (!_disposed)
        {
            _blocks.Enqueue(block);
        }
    }

    private sealed class Block(PinnedBlockMemoryPool pool, int size) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(size, pinned: true);

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }
}
