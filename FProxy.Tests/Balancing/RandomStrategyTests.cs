using FProxy.Balancing;

namespace FProxy.Tests.Balancing;

public sealed class RandomStrategyTests
{
    // Seeded, so each statistical test sees the same draws every run and cannot flake; the
    // bounds would still hold for any seed (±5% of 20,000 is more than 8 standard deviations).
    private const int Seed = 20_240_601;

    // Chi-square critical value for 2 degrees of freedom at p = 0.001.
    private const double ChiSquareCritical2 = 13.82;

    [Test]
    public void Next_EqualWeights_SpreadsEvenly()
    {
        var strategy = new RandomStrategy(TestTargets.Set(3), new Random(Seed));
        var counts = StrategyChecks.Count(strategy, TestTargets.Context(TestTargets.Set(3)), 60_000);
        Assert.That(counts, Is.All.InRange(19_000, 21_000));
        Assert.That(StrategyChecks.ChiSquare(counts, [1 / 3.0, 1 / 3.0, 1 / 3.0]), Is.LessThan(ChiSquareCritical2));
    }

    [Test]
    public void Next_UnequalWeights_FollowsWeights()
    {
        var targets = TestTargets.Weighted(1, 2, 3);
        var strategy = new RandomStrategy(targets, new Random(Seed));
        var counts = StrategyChecks.Count(strategy, TestTargets.Context(targets), 60_000);
        Assert.Multiple(() =>
        {
            Assert.That(counts[0], Is.InRange(9_500, 10_500));
            Assert.That(counts[1], Is.InRange(19_000, 21_000));
            Assert.That(counts[2], Is.InRange(28_500, 31_500));
            Assert.That(StrategyChecks.ChiSquare(counts, [1 / 6.0, 2 / 6.0, 3 / 6.0]), Is.LessThan(ChiSquareCritical2));
        });
    }

    [Test]
    public void Next_UnequalWeights_EachPointFallsInItsTargetsRange()
    {
        // Weights 1, 1000, 1 own [0, 1), [1, 1001) and [1001, 1002) of the random range.
        var targets = TestTargets.Weighted(1, 1000, 1);
        var random = new ScriptedRandom(0, 1, 500, 1000, 1001);
        var strategy = new RandomStrategy(targets, random);
        var picks = Enumerable.Range(0, 5).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(picks, Is.EqualTo(new[] { 0, 1, 1, 1, 2 }));
            Assert.That(random.Bounds, Is.All.EqualTo(1002), "draws over the total weight");
        });
    }

    [Test]
    public void Next_EqualWeights_DrawsOneIndex()
    {
        var targets = TestTargets.Weighted(7, 7, 7, 7);
        var random = new ScriptedRandom(3, 0, 2);
        var strategy = new RandomStrategy(targets, random);
        var picks = Enumerable.Range(0, 3).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(picks, Is.EqualTo(new[] { 3, 0, 2 }));
            Assert.That(random.Bounds, Is.All.EqualTo(4));
        });
    }

    [Test]
    public void Next_OneTarget_ReturnsIt()
    {
        var targets = TestTargets.Weighted(5);
        var strategy = new RandomStrategy(targets);
        Assert.That(StrategyChecks.Count(strategy, TestTargets.Context(targets), 100), Is.EqualTo(new[] { 100 }));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Next_Steady_AllocatesNothing(bool weighted)
    {
        var targets = weighted ? TestTargets.Weighted(1, 2, 3, 4, 5) : TestTargets.Set(5);
        var strategy = new RandomStrategy(targets);
        Assert.That(StrategyChecks.AllocatedBytes(strategy, [TestTargets.Context(targets)]), Is.Zero);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Next_Concurrent_StaysInRangeAndFollowsWeights()
    {
        var targets = TestTargets.Weighted(1, 2, 3);
        var strategy = new RandomStrategy(targets);
        var (counts, outOfRange) = await StrategyChecks.PickConcurrentlyAsync(strategy, [TestTargets.Context(targets)], 4, 60_000);
        Assert.Multiple(() =>
        {
            Assert.That(outOfRange, Is.Zero);
            // 240,000 shared draws: ±5% of each expected count is over 10 standard deviations.
            Assert.That(counts[0], Is.InRange(38_000, 42_000));
            Assert.That(counts[1], Is.InRange(76_000, 84_000));
            Assert.That(counts[2], Is.InRange(114_000, 126_000));
        });
    }
}
