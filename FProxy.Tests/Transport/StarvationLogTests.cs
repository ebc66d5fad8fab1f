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

public sealed class ConnectionBudgetTests
{
    [TestCase(20_000, 135, 9_804)]
    [TestCase(300, 135, 62)]
    [TestCase(180, 125, 11)]
    [TestCase(140, 135, 1)]
    public void Compute_FromLimitAndOpenDescriptors_LeavesHeadroom(long limit, int open, int expected)
    {
        Assert.That(ConnectionBudget.Compute(limit, open), Is.EqualTo(expected));
    }

    [Test]
    public void TryAcquire_AtMax_RefusesUntilReleased()
    {
        var budget = new ConnectionBudget(2);
        Assert.That(budget.TryAcquire() && budget.TryAcquire(), Is.True);
        Assert.That(budget.TryAcquire(), Is.False);
        Assert.That(budget.Active, Is.EqualTo(2));
        budget.Release();
        Assert.That(budget.TryAcquire(), Is.True);
    }

    [Test]
    [CancelAfter(10_000)]
    public async Task WhenReleasedAsync_BudgetSpent_CompletesAtTheNextRelease(CancellationToken ct)
    {
        var budget = new ConnectionBudget(1);
        Assert.That(budget.TryAcquire(), Is.True);
        Assert.That(budget.TryAcquire(), Is.False);

        var released = budget.WhenReleasedAsync();
        Assert.That(released.IsCompleted, Is.False, "nothing is free yet");
        budget.Release();
        await released.WaitAsync(ct);
        Assert.That(budget.TryAcquire(), Is.True);
        Assert.That(budget.WhenReleasedAsync().IsCompleted, Is.False, "a new wait for the next release");
    }

    [Test]
    public void WhenReleasedAsync_ReleasedBeforeTheWaitBegan_CompletesAtOnce()
    {
        // A release between a failed TryAcquire and the wait must not be missed.
        var budget = new ConnectionBudget(1);
        Assert.That(budget.TryAcquire(), Is.True);
        Assert.That(budget.TryAcquire(), Is.False);
        budget.Release();
        Assert.That(budget.WhenReleasedAsync().IsCompleted, Is.True);
    }
}
