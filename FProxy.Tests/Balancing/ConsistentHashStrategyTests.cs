using System.Net;
using FProxy.Balancing;
using FProxy.Configuration;

namespace FProxy.Tests.Balancing;

public sealed class ConsistentHashStrategyTests
{
    // The hash is fixed (not seeded per process), so these measurements are the same every run.
    private const int Clients = 10_000;

    [Test]
    public void Next_SameClient_SameTargetEveryTimeAndInEveryInstance()
    {
        // A second strategy over an equal but separate set stands for a reload, a restart or a
        // second proxy: the choice depends on the client and the targets' keys alone.
        var targets = TestTargets.Set(5);
        var again = TestTargets.Set(5);
        var strategy = new ConsistentHashStrategy(targets);
        var other = new ConsistentHashStrategy(again);
        for (var i = 0; i < 1_000; i++)
        {
            var client = StrategyChecks.V4Client(i);
            var first = strategy.Next(new StrategyContext(targets, client, 1));
            Assert.That(strategy.Next(new StrategyContext(targets, client, 1)), Is.EqualTo(first));
            Assert.That(other.Next(new StrategyContext(again, client, 1)), Is.EqualTo(first));
        }
    }

    [Test]
    public void Next_ClientPortsAndLocalPortsDiffer_SameTarget()
    {
        var targets = TestTargets.Set(5);
        var strategy = new ConsistentHashStrategy(targets);
        for (var i = 0; i < 200; i++)
        {
            var expected = strategy.Next(new StrategyContext(targets, StrategyChecks.V4Client(i, 1), 5000));
            var picks = new[] { 2, 40_000, 65_535 }.Select(port => strategy.Next(new StrategyContext(targets, StrategyChecks.V4Client(i, port), 5000 + port % 7)));
            Assert.That(picks, Is.All.EqualTo(expected));
        }
    }

    [Test]
    public void Next_IPv4MappedClient_SameTargetAsIPv4()
    {
        var targets = TestTargets.Set(7);
        var strategy = new ConsistentHashStrategy(targets);
        for (var i = 0; i < 200; i++)
        {
            var v4 = StrategyChecks.V4Client(i);
            var mapped = new IPEndPoint(v4.Address.MapToIPv6(), v4.Port);
            Assert.That(strategy.Next(new StrategyContext(targets, mapped, 1)), Is.EqualTo(strategy.Next(new StrategyContext(targets, v4, 1))));
        }
    }

    [Test]
    public void Next_NoClientAddress_GoesRoundRobin()
    {
        var targets = TestTargets.Set(3);
        var strategy = new ConsistentHashStrategy(targets);
        var picks = Enumerable.Range(0, 7).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.That(picks, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2, 0 }));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Next_ManyClients_SpreadEvenly(bool ipv6)
    {
        var targets = TestTargets.Set(3);
        var counts = CountClients(new ConsistentHashStrategy(targets), targets, 30_000, ipv6);
        Assert.That(counts, Is.All.InRange(8_500, 11_500), "each target within 15% of a third");
    }

    [Test]
    public void Next_WeightedTargets_ClientsFollowWeights()
    {
        var targets = TestTargets.Weighted(1, 2, 3);
        var counts = CountClients(new ConsistentHashStrategy(targets), targets, 60_000, ipv6: false);
        Assert.Multiple(() =>
        {
            Assert.That(counts[0], Is.InRange(8_500, 11_500));
            Assert.That(counts[1], Is.InRange(17_000, 23_000));
            Assert.That(counts[2], Is.InRange(25_500, 34_500));
        });
    }

    [Test]
    public void Next_TargetRemoved_OnlyItsClientsMove([Range(0, 9)] int removed)
    {
        const int n = 10;
        var all = TestTargets.Set(n);
        var fewer = new TargetSet(all.Where((_, i) => i != removed));
        var before = Assign(all);
        var after = Assign(fewer);
        var moved = 0;
        for (var c = 0; c < Clients; c++)
        {
            if (before[c] == all[removed])
            {
                moved++;
            }
            else
            {
                Assert.That(after[c], Is.SameAs(before[c]), $"client {c} was not on the removed target");
            }
        }

        Assert.That(moved, Is.LessThanOrEqualTo(1.5 * Clients / n), "about 1/N of clients move");
    }

    [Test]
    public void Next_TargetAdded_FewClientsMoveAndOnlyToIt()
    {
        const int n = 10;
        var all = TestTargets.Set(n);
        var added = new TargetState(new TargetConfig("127.0.0.1", n + 1));
        var more = new TargetSet([.. all, added]);
        var before = Assign(all);
        var after = Assign(more);
        var moved = 0;
        for (var c = 0; c < Clients; c++)
        {
            if (after[c] != before[c])
            {
                moved++;
                Assert.That(after[c], Is.SameAs(added), $"client {c} moved, but not to the new target");
            }
        }

        Assert.That(moved, Is.Positive.And.LessThanOrEqualTo(1.5 * Clients / (n + 1)), "about 1/(N+1) of clients move");
    }

    [Test]
    public void Next_TargetsReordered_ClientsKeepTheirTargets()
    {
        // Points come from each target's key, not its position in the set.
        var targets = TestTargets.Set(6);
        var reversed = new TargetSet(targets.Reverse());
        Assert.That(Assign(reversed), Is.EqualTo(Assign(targets)));
    }

    [Test]
    public void Next_OneTargetHeavier_ClientsMoveOnlyToIt()
    {
        // Target 0 going from weight 1 to 2 adds points for it alone: clients only move to it.
        var targets = TestTargets.Set(5);
        var heavier = new TargetSet(targets.Select((t, i) => i == 0 ? new TargetState(t.Config with { Weight = 2 }) : t));
        var before = Assign(targets);
        var after = Assign(heavier);
        for (var c = 0; c < Clients; c++)
        {
            if (after[c] != before[c])
            {
                Assert.That(after[c], Is.SameAs(heavier[0]), $"client {c}");
            }
        }
    }

    [TestCase(1)]
    [TestCase(1000)]
    public void Ctor_ThousandTargets_RingStaysBounded(int weight)
    {
        var targets = TestTargets.Weighted([.. Enumerable.Repeat(weight, 1000)]);
        var strategy = new ConsistentHashStrategy(targets);
        Assert.That(strategy.PointCount, Is.InRange(1000, ConsistentHashStrategy.MaxPoints + 1000));
    }

    [Test]
    public void Ctor_SmallSet_PointsPerUnitOfWeight()
    {
        var strategy = new ConsistentHashStrategy(TestTargets.Weighted(1, 2, 3));
        Assert.That(strategy.PointCount, Is.EqualTo(6 * ConsistentHashStrategy.PointsPerWeight));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Next_Steady_AllocatesNothing(bool ipv6)
    {
        var targets = TestTargets.Weighted(1, 2, 3, 4, 5);
        var contexts = Enumerable.Range(0, 64)
            .Select(i => new StrategyContext(targets, ipv6 ? StrategyChecks.V6Client(i) : StrategyChecks.V4Client(i), 1))
            .Append(TestTargets.Context(targets))
            .ToArray();
        Assert.That(StrategyChecks.AllocatedBytes(new ConsistentHashStrategy(targets), contexts), Is.Zero);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Next_Concurrent_StaysInRangeAndKeepsAffinity()
    {
        var targets = TestTargets.Set(5);
        var strategy = new ConsistentHashStrategy(targets);
        var client = StrategyChecks.V4Client(42);
        var expected = strategy.Next(new StrategyContext(targets, client, 1));
        var (counts, outOfRange) = await StrategyChecks.PickConcurrentlyAsync(strategy, [new StrategyContext(targets, client, 1)], 4, 50_000);
        var mixed = Enumerable.Range(0, 100).Select(i => new StrategyContext(targets, StrategyChecks.V4Client(i), 1)).Append(TestTargets.Context(targets)).ToArray();
        var (_, mixedOutOfRange) = await StrategyChecks.PickConcurrentlyAsync(strategy, mixed, 4, 50_000);
        Assert.Multiple(() =>
        {
            Assert.That(outOfRange + mixedOutOfRange, Is.Zero);
            Assert.That(counts[expected], Is.EqualTo(200_000), "one client, one target, from every thread");
        });
    }

    private static int[] CountClients(ConsistentHashStrategy strategy, TargetSet targets, int clients, bool ipv6)
    {
        var counts = new int[targets.Count];
        for (var c = 0; c < clients; c++)
        {
            counts[strategy.Next(new StrategyContext(targets, ipv6 ? StrategyChecks.V6Client(c) : StrategyChecks.V4Client(c), 1))]++;
        }

        return counts;
    }

    /// <summary>The target each of <see cref="Clients"/> clients goes to, by identity (indices shift when the set changes).</summary>
    private static TargetState[] Assign(TargetSet targets)
    {
        var strategy = new ConsistentHashStrategy(targets);
        return [.. Enumerable.Range(0, Clients).Select(c => targets[strategy.Next(new StrategyContext(targets, StrategyChecks.V4Client(c), 1))])];
    }
}
