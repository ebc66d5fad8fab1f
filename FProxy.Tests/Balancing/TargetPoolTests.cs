using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Tests.Configuration;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Balancing;

[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class TargetPoolTests
{
    private static readonly HealthCheckConfig Check = new() { HealthyThreshold = 1, UnhealthyThreshold = 1 };

    private readonly FakeTimeProvider _time = new();
    private readonly TestLogger<TargetPool> _logger = new();

    [Test]
    public void Current_AllHealthy_OffersEveryTargetInOrder()
    {
        var (pool, targets) = Create(3);
        var snapshot = pool.Current;
        Assert.That(snapshot.Available, Is.EqualTo(targets));
        Assert.That(snapshot.Unavailable, Is.Empty);
        Assert.That(snapshot.Panic, Is.False);
    }

    [Test]
    public void Republish_TargetUnhealthy_MovesItToTheLastResortList()
    {
        var (pool, targets) = Create(3);
        var before = pool.Current;
        MarkDown(targets[1]);
        pool.Republish();

        var after = pool.Current;
        Assert.That(after, Is.Not.SameAs(before), "a new snapshot, swapped whole");
        Assert.That(after.Available, Is.EqualTo(new[] { targets[0], targets[2] }));
        Assert.That(after.Unavailable, Is.EqualTo(new[] { targets[1] }));
        Assert.That(before.Available, Has.Count.EqualTo(3), "the old snapshot is untouched");
    }

    [Test]
    public void Republish_EveryTargetDown_PanicOffersAllAndLogsOnce()
    {
        var (pool, targets) = Create(2);
        foreach (var target in targets)
        {
            MarkDown(target);
            pool.Republish();
        }

        pool.Republish(); // Still in panic: no second message.
        Assert.That(pool.Current.Panic, Is.True);
        Assert.That(pool.Current.Available, Is.EqualTo(targets));
        Assert.That(_logger.Count(1500), Is.EqualTo(1));

        targets[0].SetHealth(available: true, ejected: false);
        pool.Republish();
        Assert.That(pool.Current.Panic, Is.False);
        Assert.That(pool.Current.Available, Is.EqualTo(new[] { targets[0] }));
        Assert.That(_logger.Count(1501), Is.EqualTo(1));
    }

    [Test]
    public void Republish_SameTargets_KeepsTheStrategyAndItsState()
    {
        var (pool, _) = Create(3);
        var strategy = pool.Current.Strategy;
        pool.Republish();
        Assert.That(pool.Current.Strategy, Is.SameAs(strategy));
    }

    [Test]
    public void Create_StrategyFactoryThrows_RoundRobinStandsInAndIsLogged()
    {
        var registry = new StrategyRegistry().Add("Broken", static _ => throw new InvalidOperationException("boom"));
        var targets = Targets(2);
        var pool = new TargetPool("app", "the app", targets, "Broken", registry, _logger);
        Assert.That(pool.Current.Strategy, Is.InstanceOf<RoundRobinStrategy>());
        Assert.That(_logger.Count(1502), Is.EqualTo(1));
    }

    private (TargetPool Pool, TargetState[] Targets) Create(int count)
    {
        var targets = Targets(count);
        return (new TargetPool("app", "the app", targets, StrategyRegistry.RoundRobin, new StrategyRegistry(), _logger), targets);
    }

    private TargetState[] Targets(int count) =>
        [.. Enumerable.Range(1, count).Select(i => new TargetState(new TargetConfig("127.0.0.1", i)))];

    private static void MarkDown(TargetState target) => target.SetHealth(available: false, ejected: false);
}
