using FProxy.Transport;

namespace FProxy.Tests.Transport;

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

    [Test]
    public void SpikeEnded_OnlyOnceAThousandConnectionsClosedSinceThePeak()
    {
        var budget = new ConnectionBudget(10_000);
        Acquire(budget, 1_500);
        Assert.That(budget.SpikeEnded(), Is.False, "nothing closed yet");

        Release(budget, ConnectionBudget.SpikeConnections - 1);
        Assert.That(budget.SpikeEnded(), Is.False, "one short of a spike");

        Release(budget, 1);
        Assert.That(budget.SpikeEnded(), Is.True, "a thousand closed since the peak");
        Assert.That(budget.SpikeEnded(), Is.False, "the peak starts again from what is open");

        // Steady traffic around a level never counts as a spike, however many connections pass.
        for (var i = 0; i < 5_000; i++)
        {
            Acquire(budget, 1);
            Release(budget, 1);
        }

        Assert.That(budget.SpikeEnded(), Is.False);
    }

    [Test]
    public void ShouldCollect_ASpikeEnded_NowAndAtTheNextCheckOnly()
    {
        var budget = new ConnectionBudget(10_000);
        Acquire(budget, ConnectionBudget.SpikeConnections);
        Assert.That(budget.ShouldCollect(), Is.False, "no spike has ended");

        Release(budget, ConnectionBudget.SpikeConnections);
        Assert.That(budget.ShouldCollect(), Is.True, "the spike ended");
        Assert.That(budget.ShouldCollect(), Is.True, "once more, for what had finalizers");
        Assert.That(budget.ShouldCollect(), Is.False, "then nothing until the next spike");
    }

    private static void Acquire(ConnectionBudget budget, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Assert.That(budget.TryAcquire(), Is.True);
        }
    }

    private static void Release(ConnectionBudget budget, int count)
    {
        for (var i = 0; i < count; i++)
        {
            budget.Release();
        }
    }
}
