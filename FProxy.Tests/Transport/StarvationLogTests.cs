using FProxy.Transport;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Transport;

public sealed class StarvationLogTests
{
    [Test]
    public void Fail_RepeatedInOneBurst_LogsOnce()
    {
        var log = new StarvationLog(new FakeTimeProvider());
        Assert.That(log.Fail(), Is.True);
        Assert.That(Enumerable.Range(0, 50).Count(_ => log.Fail()), Is.Zero);
        Assert.That(log.Starved, Is.True);
    }

    [Test]
    public void Recover_FlappingAtTheLimit_LogsOncePerQuietPeriod()
    {
        var time = new FakeTimeProvider();
        var log = new StarvationLog(time);
        var logged = 0;
        for (var i = 0; i < 100; i++)
        {
            logged += log.Fail() ? 1 : 0;
            logged += log.Recover(out _) ? 1 : 0;
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.That(logged, Is.EqualTo(2), "one pause and one resume for the whole flapping second");
        Assert.That(log.Starved, Is.False);
    }

    [Test]
    public void Fail_AfterQuietPeriod_StartsANewBurst()
    {
        var time = new FakeTimeProvider();
        var log = new StarvationLog(time);
        log.Fail();
        Assert.That(log.Recover(out var failures), Is.True);
        Assert.That(failures, Is.EqualTo(1));
        time.Advance(StarvationLog.QuietPeriod + TimeSpan.FromSeconds(1));
        Assert.That(log.Fail(), Is.True);
        Assert.That(log.Recover(out _), Is.True);
    }
}
