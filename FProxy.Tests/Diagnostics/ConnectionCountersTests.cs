using FProxy.Diagnostics;

namespace FProxy.Tests.Diagnostics;

public sealed class ConnectionCountersTests
{
    [TestCase(0, Description = "one stripe per CPU, as made for a listener")]
    [TestCase(1, Description = "one stripe for all: threads share it")]
    public void Counts_ManyThreadsAcceptFailAndClose_ExactPerCount(int stripes)
    {
        // More threads than cores, so threads share stripes and move between CPUs mid-way: every
        // count must land exactly once, in its own slot. One thread per reason.
        var threads = ConnectionCounters.FailureReasons.Length;
        const int ConnectionsPerThread = 200_000;
        var counters = stripes == 0 ? new ConnectionCounters("app", 1) : new ConnectionCounters("app", 1, stripes);
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < ConnectionsPerThread; i++)
            {
                counters.Accepted();
                counters.Failed(ConnectionCounters.FailureReasons[t]);
                counters.Closed();
            }
        })).ToList();

        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());

        Assert.That(counters.ReadAccepted(), Is.EqualTo(threads * ConnectionsPerThread));
        Assert.That(counters.ReadActive(), Is.Zero);
        var perReason = Enumerable.Range(0, ConnectionCounters.FailureReasons.Length).Select(counters.ReadFailed).ToArray();
        Assert.That(perReason, Is.All.EqualTo(ConnectionsPerThread), "each thread's reason counted exactly");
    }

    [Test]
    public void ReadActive_WhileConnectionsComeAndGo_NeverNegative()
    {
        var counters = new ConnectionCounters("app", 1);
        using var stop = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                counters.Accepted();
                counters.Closed();
            }
        })).ToList();
        workers.ForEach(w => w.Start());

        var lowest = long.MaxValue;
        for (var i = 0; i < 200_000; i++)
        {
            lowest = Math.Min(lowest, counters.ReadActive());
        }

        stop.Cancel();
        workers.ForEach(w => w.Join());
        Assert.That(lowest, Is.GreaterThanOrEqualTo(0), "closes are read before accepts");
        Assert.That(counters.ReadActive(), Is.Zero);
    }

    [Test]
    public void Failed_UnknownReason_Throws() =>
        Assert.That(() => new ConnectionCounters("app", 1).Failed("other"), Throws.InstanceOf<ArgumentOutOfRangeException>());

    [TestCase(0)]
    [TestCase(3)]
    public void Constructor_StripesNotAPowerOfTwo_Throws(int stripes) =>
        Assert.That(() => new ConnectionCounters("app", 1, stripes), Throws.InstanceOf<ArgumentOutOfRangeException>());
}
