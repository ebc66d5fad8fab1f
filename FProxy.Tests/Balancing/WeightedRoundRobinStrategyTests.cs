using FProxy.Balancing;

namespace FProxy.Tests.Balancing;

public sealed class WeightedRoundRobinStrategyTests
{
    [Test]
    public void Next_Weights511_FollowsNginxSequence()
    {
        // nginx's documented example (commit 52327e06, "Upstream: smooth weighted round-robin balancing"):
        // weights 5, 1, 1 give a a b a c a a, then the cycle repeats.
        var targets = TestTargets.Weighted(5, 1, 1);
        var strategy = new WeightedRoundRobinStrategy(targets);
        var picks = Enumerable.Range(0, 14).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.That(picks, Is.EqualTo(new[] { 0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0 }));
    }

    [TestCase(1)]
    [TestCase(7)]
    public void Next_EqualWeights_PlainRotation(int weight)
    {
        var targets = TestTargets.Weighted(weight, weight, weight);
        var strategy = new WeightedRoundRobinStrategy(targets);
        var picks = Enumerable.Range(0, 7).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(picks, Is.EqualTo(new[] { 0, 1, 2, 0, 1, 2, 0 }));
            Assert.That(strategy.CycleLength, Is.EqualTo(3));
        });
    }

    [Test]
    public void Next_CommonDivisor_CycleOfReducedWeights()
    {
        // 4, 2, 6 are 2, 1, 3 twice over: a cycle of 6 picks, the same order as for 2, 1, 3.
        var targets = TestTargets.Weighted(4, 2, 6);
        var reduced = TestTargets.Weighted(2, 1, 3);
        var strategy = new WeightedRoundRobinStrategy(targets);
        var reference = new WeightedRoundRobinStrategy(reduced);
        var picks = Enumerable.Range(0, 12).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        var expected = Enumerable.Range(0, 12).Select(_ => reference.Next(TestTargets.Context(reduced))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(strategy.CycleLength, Is.EqualTo(6));
            Assert.That(picks, Is.EqualTo(expected));
        });
    }

    [Test]
    public void Next_EveryCycle_GivesEachTargetExactlyItsWeight()
    {
        var targets = TestTargets.Weighted(3, 5, 1, 2);
        var strategy = new WeightedRoundRobinStrategy(targets);
        Assert.That(strategy.CycleLength, Is.EqualTo(11));
        for (var cycle = 0; cycle < 5; cycle++)
        {
            Assert.That(StrategyChecks.Count(strategy, TestTargets.Context(targets), 11), Is.EqualTo(new[] { 3, 5, 1, 2 }), $"cycle {cycle}");
        }
    }

    [Test]
    public void Next_Smooth_NoTargetTakesTwoTurnsInARowWhenItNeedNot()
    {
        // Weights 2, 2, 1 interleave as a b a b c or similar, never a a: smooth, unlike plain
        // weighted round robin, which would send a target its whole weight at once.
        var targets = TestTargets.Weighted(2, 2, 1);
        var strategy = new WeightedRoundRobinStrategy(targets);
        var picks = Enumerable.Range(0, 10).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.That(picks.Zip(picks.Skip(1)).Where(static p => p.First == p.Second && p.First != 2), Is.Empty);
    }

    [Test]
    public void Next_CycleTooLong_WeightsScaledToFitKeepingRatios()
    {
        // Weights 1..1000 over 1000 targets would need a cycle of 500,500 picks.
        var targets = TestTargets.Weighted([.. Enumerable.Range(1, 1000)]);
        var strategy = new WeightedRoundRobinStrategy(targets);
        var counts = StrategyChecks.Count(strategy, TestTargets.Context(targets), strategy.CycleLength);
        Assert.Multiple(() =>
        {
            Assert.That(strategy.CycleLength, Is.LessThanOrEqualTo(WeightedRoundRobinStrategy.MaxCycle));
            Assert.That(counts, Is.All.Positive, "every target keeps a place in the cycle");
            Assert.That(counts[999] / (double)counts[499], Is.InRange(1.98, 2.02), "weight 1000 against 500");
            Assert.That(counts[999] / (double)counts[99], Is.InRange(9.5, 10.5), "weight 1000 against 100");
        });
    }

    [Test]
    public void Next_OneTarget_ReturnsIt()
    {
        var targets = TestTargets.Weighted(5);
        Assert.That(StrategyChecks.Count(new WeightedRoundRobinStrategy(targets), TestTargets.Context(targets), 10), Is.EqualTo(new[] { 10 }));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Next_Steady_AllocatesNothing(bool weighted)
    {
        var targets = weighted ? TestTargets.Weighted(1, 2, 3, 4, 5) : TestTargets.Set(5);
        Assert.That(StrategyChecks.AllocatedBytes(new WeightedRoundRobinStrategy(targets), [TestTargets.Context(targets)]), Is.Zero);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Next_Concurrent_ExactSharesOverWholeCycles()
    {
        // 280,000 picks are 40,000 cycles of 7: every ticket is issued once, so the shares are exact.
        var targets = TestTargets.Weighted(5, 1, 1);
        var (counts, outOfRange) = await StrategyChecks.PickConcurrentlyAsync(
            new WeightedRoundRobinStrategy(targets), [TestTargets.Context(targets)], 4, 70_000);
        Assert.Multiple(() =>
        {
            Assert.That(outOfRange, Is.Zero);
            Assert.That(counts, Is.EqualTo(new[] { 200_000, 40_000, 40_000 }));
        });
    }
}
