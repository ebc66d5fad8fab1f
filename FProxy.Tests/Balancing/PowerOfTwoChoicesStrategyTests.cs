using FProxy.Balancing;

namespace FProxy.Tests.Balancing;

public sealed class PowerOfTwoChoicesStrategyTests
{
    // Seeded, so each statistical test sees the same draws every run and cannot flake; the
    // bounds are also more than 8 standard deviations wide.
    private const int Seed = 20_240_601;

    [Test]
    public void Next_TwoTargets_AlwaysPicksLessLoaded()
    {
        // With two targets both are always drawn, so the less loaded one always wins.
        var targets = StrategyChecks.WithLoads(TestTargets.Set(2), 4, 1);
        var counts = StrategyChecks.Count(new PowerOfTwoChoicesStrategy(new Random(Seed)), TestTargets.Context(targets), 1_000);
        Assert.That(counts, Is.EqualTo(new[] { 0, 1_000 }));
    }

    [Test]
    public void Next_TwoWeightedTargets_ComparesLoadPerWeight()
    {
        // 2 active on weight 3 (0.67) is less loaded than 1 active on weight 1.
        var targets = StrategyChecks.WithLoads(TestTargets.Weighted(1, 3), 1, 2);
        var counts = StrategyChecks.Count(new PowerOfTwoChoicesStrategy(new Random(Seed)), TestTargets.Context(targets), 1_000);
        Assert.That(counts, Is.EqualTo(new[] { 0, 1_000 }));
    }

    [Test]
    public void Next_DistinctLoads_NeverPicksMoreLoadedOfPairAndFavoursLessLoaded()
    {
        // Loads 0..4: target k wins exactly the pairs whose other member is more loaded, that is
        // (4 - k) of the 10 pairs, all equally likely; the most loaded never wins.
        var targets = StrategyChecks.WithLoads(TestTargets.Set(5), 0, 1, 2, 3, 4);
        var counts = StrategyChecks.Count(new PowerOfTwoChoicesStrategy(new Random(Seed)), TestTargets.Context(targets), 50_000);
        Assert.Multiple(() =>
        {
            Assert.That(counts[4], Is.Zero);
            Assert.That(counts[0], Is.InRange(19_000, 21_000));
            Assert.That(counts[1], Is.InRange(14_000, 16_000));
            Assert.That(counts[2], Is.InRange(9_000, 11_000));
            Assert.That(counts[3], Is.InRange(4_000, 6_000));
        });
    }

    [Test]
    public void Next_ScriptedDraws_PicksLessLoadedOfTheTwoDistinct()
    {
        // Draws (first, second of the others): (2, 0) is the pair {2, 0}; (0, 0) is {0, 1},
        // since the second draw skips the first index.
        var targets = StrategyChecks.WithLoads(TestTargets.Set(3), 1, 0, 2);
        var random = new ScriptedRandom(2, 0, 0, 0, 2, 1);
        var strategy = new PowerOfTwoChoicesStrategy(random);
        var picks = Enumerable.Range(0, 3).Select(_ => strategy.Next(TestTargets.Context(targets))).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(picks, Is.EqualTo(new[] { 0, 1, 1 }));
            Assert.That(random.Bounds, Is.EqualTo(new[] { 3, 2, 3, 2, 3, 2 }));
        });
    }

    [Test]
    public void Next_AllIdle_SpreadsEvenly()
    {
        var targets = TestTargets.Set(3);
        var counts = StrategyChecks.Count(new PowerOfTwoChoicesStrategy(new Random(Seed)), TestTargets.Context(targets), 60_000);
        Assert.That(counts, Is.All.InRange(19_000, 21_000));
    }

    [Test]
    public void Next_EachPickCounted_ActiveConnectionsStayClose()
    {
        // As the connector does: the picked target counts the new connection at once. Two
        // choices keep the gap between targets small (a log log n bound), unlike plain random.
        var targets = TestTargets.Set(10);
        var strategy = new PowerOfTwoChoicesStrategy(new Random(Seed));
        for (var i = 0; i < 10_000; i++)
        {
            targets[strategy.Next(TestTargets.Context(targets))].Enter();
        }

        var active = targets.Select(static t => t.ActiveConnections).ToArray();
        Assert.That(active.Max() - active.Min(), Is.LessThanOrEqualTo(10));
    }

    [Test]
    public void Next_OneTarget_ReturnsIt()
    {
        var targets = TestTargets.Set(1);
        Assert.That(StrategyChecks.Count(new PowerOfTwoChoicesStrategy(), TestTargets.Context(targets), 10), Is.EqualTo(new[] { 10 }));
    }

    [Test]
    public void Next_Steady_AllocatesNothing()
    {
        var targets = StrategyChecks.WithLoads(TestTargets.Weighted(1, 2, 3, 4, 5), 4, 1, 0, 9, 2);
        Assert.That(StrategyChecks.AllocatedBytes(new PowerOfTwoChoicesStrategy(), [TestTargets.Context(targets)]), Is.Zero);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Next_Concurrent_StaysInRange()
    {
        var targets = StrategyChecks.WithLoads(TestTargets.Set(5), 0, 1, 2, 3, 4);
        var (counts, outOfRange) = await StrategyChecks.PickConcurrentlyAsync(new PowerOfTwoChoicesStrategy(), [TestTargets.Context(targets)], 4, 50_000);
        Assert.Multiple(() =>
        {
            Assert.That(outOfRange, Is.Zero);
            Assert.That(counts[4], Is.Zero, "the most loaded target never wins a pair");
        });
    }
}
