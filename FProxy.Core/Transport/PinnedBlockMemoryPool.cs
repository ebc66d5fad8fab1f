using System.Buffers;
using System.Collections.Concurrent;

namespace FProxy.Transport;

/// <summary>
/// A pool of fixed-size pinned blocks for the pipes. Unlike MemoryPool&lt;byte&gt;.Shared it does
/// not allocate an owner object per rent: each block is its own reusable owner. Pinned arrays
/// let the kernel copy straight into them without the runtime pinning per operation.
/// </summary>
/// <remarks>
/// Blocks return to the pool, never to the GC: memory held equals the peak of data in flight.
/// Counters (<see cref="Outstanding"/>) are what leak tests assert on.
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
    private int _outstanding;
    private long _allocated;
    private bool _disposed;

    public PinnedBlockMemoryPool(int blockSize = DefaultBlockSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 1);
        _blockSize = blockSize;
    }

    /// <summary>The shared pool used by the daemon.</summary>
    public static new PinnedBlockMemoryPool Shared { get; } = new();

    public override int MaxBufferSize => _blockSize;

    /// <summary>Blocks rented and not yet returned.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);

    /// <summary>Blocks ever created (the pool's footprint is this times the block size).</summary>
    public long Allocated => Interlocked.Read(ref _allocated);

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

        Interlocked.Increment(ref _outstanding);
        return block;
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
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
