using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Health;

[FixtureLifeCycle(LifeCycle.InstancePerTestCase)]
public sealed class TargetHealthTests
{
    private static readonly PassiveHealthConfig Passive = new(true, 3, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
    private static readonly HealthCheckConfig Check = new() { HealthyThreshold = 2, UnhealthyThreshold = 3 };

    private readonly FakeTimeProvider _time = new();
    private readonly List<(HealthTransition Transition, string Reason)> _changes = [];

    [Test]
    public void ConnectFailed_BelowThreshold_StaysAvailable()
    {
        var target = Create();
        target.ConnectFailed("connection refused");
        target.ConnectFailed("connection refused");
        Assert.That(target.Target.IsAvailable, Is.True);
        Assert.That(_changes, Is.Empty);
    }

    [Test]
    public void ConnectFailed_ThresholdReached_EjectsOnceWithReason()
    {
        var target = Create();
        for (var i = 0; i < 5; i++)
        {
            target.ConnectFailed("connection refused");
        }

        Assert.That(target.Target.IsAvailable, Is.False);
        Assert.That(_changes, Has.Count.EqualTo(1));
        Assert.That(_changes[0].Transition, Is.EqualTo(HealthTransition.Ejected));
        Assert.That(_changes[0].Reason, Does.Contain("ejected for 5s").And.Contain("3 connect failure(s)").And.Contain("connection refused"));
    }

    [Test]
    public void ConnectFailed_ThresholdLoweredMidStreak_EjectsAtTheNextFailure()
    {
        var target = Create(new PassiveHealthConfig(true, 5, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)));
        for (var i = 0; i < 4; i++)
        {
            target.ConnectFailed("refused");
        }

        target.Passive = Passive; // A reload: 3 in a row now eject.
        target.ConnectFailed("refused");
        Assert.That(target.Target.IsAvailable, Is.False, "a streak already past the new threshold ejects");
    }

    [Test]
    public void ConnectSucceeded_BetweenFailures_RestartsTheStreak()
    {
        var target = Create();
        target.ConnectFailed("refused");
        target.ConnectFailed("refused");
        target.ConnectSucceeded();
        target.ConnectFailed("refused");
        target.ConnectFailed("refused");
        Assert.That(target.Target.IsAvailable, Is.True, "the failures were not consecutive");
    }

    [Test]
    public void Ejection_BaseEjectionPasses_ReturnsExactlyThen()
    {
        var target = Create();
        Eject(target);
        _time.Advance(TimeSpan.FromSeconds(5) - TimeSpan.FromMilliseconds(1));
        Assert.That(target.Target.IsAvailable, Is.False, "still ejected 1 ms before BaseEjection");
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(target.Target.IsAvailable, Is.True);
        Assert.That(_changes[^1].Transition, Is.EqualTo(HealthTransition.Returned));
    }

    [Test]
    public void Ejection_Repeated_DoublesUpToMaxEjection()
    {
        var target = Create();
        var durations = new List<TimeSpan>();
        for (var round = 0; round < 5; round++)
        {
            Eject(target);
            var ejectedAt = _time.GetUtcNow();
            while (!target.Target.IsAvailable)
            {
                _time.Advance(TimeSpan.FromSeconds(1));
            }

            durations.Add(_time.GetUtcNow() - ejectedAt);
        }

        Assert.That(durations.Select(static d => d.TotalSeconds), Is.EqualTo(new double[] { 5, 10, 20, 30, 30 }));
    }

    [Test]
    public void ConnectSucceeded_AfterReturn_ResetsTheDoubling()
    {
        var target = Create();
        Eject(target);
        _time.Advance(TimeSpan.FromSeconds(5));
        target.ConnectSucceeded();
        Eject(target);
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(target.Target.IsAvailable, Is.True, "the second ejection lasted the base time again");
    }

    [Test]
    public void ConnectFailed_PassiveOff_NeverEjects()
    {
        var target = Create(PassiveHealthConfig.Off);
        for (var i = 0; i < 100; i++)
        {
            target.ConnectFailed("refused");
        }

        Assert.That(target.Target.IsAvailable, Is.True);
    }

    [Test]
    public void ProbeCompleted_UnhealthyThenHealthy_FollowsThresholds()
    {
        var target = Create();
        target.ProbeCompleted(false, "refused", Check);
        target.ProbeCompleted(false, "refused", Check);
        Assert.That(target.Target.IsAvailable, Is.True, "two failures are below UnhealthyThreshold 3");
        target.ProbeCompleted(false, "refused", Check);
        Assert.That(target.Target.IsAvailable, Is.False);
        Assert.That(_changes[^1], Is.EqualTo((HealthTransition.Unhealthy, "3 check(s) in a row failed, last: refused")));

        target.ProbeCompleted(true, null, Check);
        Assert.That(target.Target.IsAvailable, Is.False, "one pass is below HealthyThreshold 2");
        target.ProbeCompleted(true, null, Check);
        Assert.That(target.Target.IsAvailable, Is.True);
        Assert.That(_changes[^1].Transition, Is.EqualTo(HealthTransition.Healthy));
    }

    [Test]
    public void ProbeCompleted_AlternatingResults_NeverChangesVerdict()
    {
        var target = Create();
        for (var i = 0; i < 10; i++)
        {
            target.ProbeCompleted(i % 3 != 2, "refused", Check);
        }

        Assert.That(target.Target.IsAvailable, Is.True);
        Assert.That(_changes, Is.Empty);
    }

    [Test]
    public void ProbeCompleted_PassWhileEjected_EndsTheEjection()
    {
        var target = Create();
        Eject(target);
        target.ProbeCompleted(true, null, Check);
        Assert.That(target.Target.IsAvailable, Is.True);
        Assert.That(_changes[^1], Is.EqualTo((HealthTransition.Returned, "an active check passed")));
    }

    [Test]
    public void ChecksStopped_WhileUnhealthy_MakesTargetHealthy()
    {
        var target = Create();
        for (var i = 0; i < 3; i++)
        {
            target.ProbeCompleted(false, "refused", Check);
        }

        target.ChecksStopped();
        Assert.That(target.Target.IsAvailable, Is.True);
    }

    [Test]
    public void ProbeCompleted_FromAStoppedChecker_Ignored()
    {
        var target = Create();
        var stale = target.Generation;
        target.ChecksStopped(); // Checks turned off by a reload while a probe was running.
        target.ProbeCompleted(false, "refused", new HealthCheckConfig { UnhealthyThreshold = 1 }, stale);
        Assert.That(target.Target.IsAvailable, Is.True, "the late verdict of the old checker does not count");

        target.ProbeCompleted(false, "refused", new HealthCheckConfig { UnhealthyThreshold = 1 }, target.Generation);
        Assert.That(target.Target.IsAvailable, Is.False, "the current round's does");
    }

    [Test]
    public void Stop_WhileEjected_NoTimerFiresAfterwards()
    {
        var target = Create();
        Eject(target);
        var changes = _changes.Count;
        target.Stop();
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.That(_changes, Has.Count.EqualTo(changes));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task ConnectFailed_ConcurrentStreak_EjectsExactlyOnce()
    {
        var target = Create(new PassiveHealthConfig(true, 1000, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 5000; i++)
            {
                target.ConnectFailed("refused");
            }
        })));

        Assert.That(_changes.Count(static c => c.Transition == HealthTransition.Ejected), Is.EqualTo(1));
    }

    private TargetHealth Create(PassiveHealthConfig? passive = null)
    {
        var target = new TargetHealth(new TargetState(new TargetConfig("127.0.0.1", 1)), _time, passive ?? Passive);
        target.Changed = (_, transition, reason) =>
        {
            lock (_changes)
            {
                _changes.Add((transition, reason));
            }
        };
        return target;
    }

    private static void Eject(TargetHealth target)
    {
        for (var i = 0; i < 3; i++)
        {
            target.ConnectFailed("refused");
        }

        Assert.That(target.Target.IsAvailable, Is.False, "ejected");
    }
}
