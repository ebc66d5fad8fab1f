using FProxy.Diagnostics;

namespace FProxy.Tests.Diagnostics;

public sealed class StripedCounterTests
{
    [TestCase(0, Description = "one stripe per CPU, as made for a target")]
    [TestCase(1, Description = "one stripe for all: the CPU id is only a hint, so threads may share any stripe")]
    public void Read_AfterAddsFromManyThreads_IsTheExactSum(int stripes)
    {
        // More threads than cores, so threads share stripes and move between CPUs mid-way: every
        // add must still land exactly once.
        const int Threads = 8;
        const int AddsPerThread = 2_000_000;
        var counter = stripes == 0 ? new StripedCounter() : new StripedCounter(stripes, slots: 1);
        using var start = new Barrier(Threads);
        var workers = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < AddsPerThread; i++)
            {
                counter.Add(t + 1);
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.That(counter.Read(), Is.EqualTo(AddsPerThread * (long)(Threads * (Threads + 1) / 2)));
    }

    [Test]
    public void Read_LargeValues_DoNotWrapAtInt32()
    {
        var counter = new StripedCounter();
        counter.Add(int.MaxValue);
        counter.Add(int.MaxValue);
        counter.Add(-1);

        Assert.That(counter.Read(), Is.EqualTo(2L * int.MaxValue - 1));
    }

    [TestCase(0)]
    [TestCase(3)]
    public void Constructor_StripesNotAPowerOfTwo_Throws(int stripes) =>
        Assert.That(() => new StripedCounter(stripes, slots: 1), Throws.InstanceOf<ArgumentOutOfRangeException>());
}
