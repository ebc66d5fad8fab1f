using FProxy.Balancing;

namespace FProxy.Tests.Balancing;

public sealed class RoundRobinStrategyTests
{
    [Test]
    public void Next_Sequential_VisitsTargetsInTurn()
    {
        var strategy = new RoundRobinStrategy();
        var context = TestTargets.Context(TestTargets.Set(3), 1);
        var picks = Enumerable.Range(0, 7).Select(_ => strategy.Next(context)).ToArray();
        Assert.That(picks, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2, 0 }));
    }

    [Test]
    public void Next_CounterWraps_StaysInRange()
    {
        var strategy = new RoundRobinStrategy(uint.MaxValue - 5);
        var context = TestTargets.Context(TestTargets.Set(7), 1);
        for (var i = 0; i < 20; i++)
        {
            Assert.That(strategy.Next(context), Is.InRange(0, 6));
        }
    }

    [Test]
    public void Next_SharedByPortsOfOneApp_OneRotation()
    {
        var strategy = new RoundRobinStrategy();
        var two = TestTargets.Set(2);
        var picks = new[] { strategy.Next(TestTargets.Context(two, 5001)), strategy.Next(TestTargets.Context(two, 5200)), strategy.Next(TestTargets.Context(two, 5001)) };
        Assert.That(picks, Is.EqualTo(new[] { 0, 1, 0 }));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Next_Concurrent_SpreadsExactlyEvenly()
    {
        var strategy = new RoundRobinStrategy();
        const int targets = 5, threads = 4, perThread = 100_000;
        var counts = new int[targets];
        await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Run(() =>
        {
            var local = new int[targets];
            var context = TestTargets.Context(TestTargets.Set(targets), 1);
            for (var i = 0; i < perThread; i++)
            {
                local[strategy.Next(context)]++;
            }

            lock (counts)
            {
                for (var t = 0; t < targets; t++)
                {
                    counts[t] += local[t];
                }
            }
        })));

        Assert.That(counts, Is.All.EqualTo(threads * perThread / targets), "every ticket is issued once");
    }
}
