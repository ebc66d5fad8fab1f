using System.Buffers;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A memory pool for leak tests (after System.IO.Pipelines' tests/Infrastructure/TestMemoryPool):
/// counts the blocks out, and fails a rent on purpose to inject a fault where the data path asks
/// for memory.
/// </summary>
internal sealed class TestMemoryPool(int blockSize) : MemoryPool<byte>
{
    private int _outstanding;
    private int _rents;

    /// <summary>Rents past this many throw <see cref="InvalidOperationException"/>.</summary>
    public int FailAfterRents { get; set; } = int.MaxValue;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public override int MaxBufferSize => blockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (Interlocked.Increment(ref _rents) > FailAfterRents)
        {
            throw new InvalidOperationException("the test pool fails this rent on purpose");
        }

        Interlocked.Increment(ref _outstanding);
        return new Block(this, blockSize);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private sealed class Block(TestMemoryPool pool, int size) : IMemoryOwner<byte>
    {
        private int _disposed;

        public Memory<byte> Memory { get; } = new byte[size];

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref pool._outstanding);
            }
        }
    }
}
