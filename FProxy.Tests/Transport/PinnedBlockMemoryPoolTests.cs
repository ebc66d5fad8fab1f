using System.Buffers;
using FProxy.Transport;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Transport;

/// <summary>The pool gives memory back after a burst, on its clock, and never takes a block that is lent.</summary>
public sealed class PinnedBlockMemoryPoolTests
{
    private readonly FakeTimeProvider _time = new();

    [Test]
    public void Evict_AfterABurst_GivesFreeBlocksBackToTheGC()
    {
        using var pool = new PinnedBlockMemoryPool(time: _time);
        ReturnAll(RentMany(pool, 1000));
        Assert.That((pool.Free, pool.Allocated), Is.EqualTo((1000, 1000L)));

        _time.Advance(PinnedBlockMemoryPool.EvictionPeriod);
        Assert.That(pool.Free, Is.EqualTo(1000), "the period of the burst needed every block");

        _time.Advance(PinnedBlockMemoryPool.EvictionPeriod);
        var afterOne = pool.Free;
        Assert.That(afterOne, Is.LessThan(1000), "a quiet period gives blocks back");
        Assert.That(afterOne, Is.GreaterThan(0), "a share at a time, not all at once");
        Assert.That(pool.Allocated, Is.EqualTo(afterOne), "the footprint shrinks with it");

        for (var i = 0; i < 30; i++)
        {
            _time.Advance(PinnedBlockMemoryPool.EvictionPeriod);
        }

        Assert.That(pool.Free, Is.Zero, "five minutes later, nothing of the burst is held");
        Assert.That(pool.Allocated, Is.Zero);
    }

    [Test]
    public void Evict_SteadyUse_KeepsTheBlocksItNeeds()
    {
        using var pool = new PinnedBlockMemoryPool(time: _time);
        for (var period = 0; period < 30; period++)
        {
            ReturnAll(RentMany(pool, 100));
            _time.Advance(PinnedBlockMemoryPool.EvictionPeriod);
        }

        Assert.That(pool.Allocated, Is.EqualTo(100), "100 blocks were needed every period: none given back, none made again");
        Assert.That(pool.Free, Is.EqualTo(100));
    }

    [Test]
    public void Evict_BlocksLentOut_AreNeverTaken()
    {
        using var pool = new PinnedBlockMemoryPool(time: _time);
        var burst = RentMany(pool, 500);
        var kept = burst.Take(100).ToList();
        ReturnAll(burst.Skip(100).ToList());
        for (var i = 0; i < 40; i++)
        {
            _time.Advance(PinnedBlockMemoryPool.EvictionPeriod);
        }

        Assert.That(pool.Free, Is.Zero, "the 400 returned blocks went back to the GC");
        Assert.That(pool.Outstanding, Is.EqualTo(100));
        Assert.That(pool.Allocated, Is.EqualTo(100), "the lent ones are still the pool's");
        foreach (var block in kept)
        {
            block.Memory.Span.Fill(7); // Still usable memory.
        }

        ReturnAll(kept);
        Assert.That(pool.Free, Is.EqualTo(100), "and they come back to it");
    }

    [Test]
    public void Shared_UsedByTheDaemon_EvictsIdleBlocks()
    {
        Assert.That(PinnedBlockMemoryPool.Shared.EvictsIdleBlocks, Is.True);
        using var withoutClock = new PinnedBlockMemoryPool();
        Assert.That(withoutClock.EvictsIdleBlocks, Is.False, "a pool without a clock keeps its blocks (tests, benchmarks)");
    }

    private static List<IMemoryOwner<byte>> RentMany(PinnedBlockMemoryPool pool, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => pool.Rent())];

    private static void ReturnAll(List<IMemoryOwner<byte>> blocks) => blocks.ForEach(static b => b.Dispose());
}
